namespace RequestsProxy.Server;

/// <summary>
/// Every log line of the proxy, with stable event ids. Tokens and keys are never arguments:
/// only reasons, kids, jti and sub.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Proxy starting: mode {Mode}, {RouteCount} route(s) from {RouteSource}, release {Release}, namespace {Namespace}")]
    public static partial void Starting(ILogger logger, string mode, int routeCount, string routeSource, string? release, string? @namespace);

    [LoggerMessage(10, LogLevel.Information, "Key ring loaded: kids {Kids}, active {ActiveKid}, generation {Generation}")]
    public static partial void KeyRingLoaded(ILogger logger, string kids, string activeKid, long generation);

    [LoggerMessage(11, LogLevel.Error, "Key ring update refused, the last good ring stays in force: {Error}")]
    public static partial void KeyRingRefused(ILogger logger, string error);

    [LoggerMessage(12, LogLevel.Information, "Revocation list loaded: {Count} revoked jti(s)")]
    public static partial void RevocationListLoaded(ILogger logger, int count);

    [LoggerMessage(13, LogLevel.Error, "Revocation list update refused, the last good list stays in force: {Error}")]
    public static partial void RevocationListRefused(ILogger logger, string error);

    [LoggerMessage(16, LogLevel.Warning, "The {List} is not ready: waiting for {Files} to appear in the volume (its ConfigMap does not exist yet, or the kubelet has not synced it); requests are answered 503 until then")]
    public static partial void ListWaiting(ILogger logger, string list, string files);

    [LoggerMessage(14, LogLevel.Information, "Legacy token list loaded: {Count} live legacy token(s)")]
    public static partial void LegacyTokenListLoaded(ILogger logger, int count);

    [LoggerMessage(16, LogLevel.Information, "Legacy token list {Marker} says issuing: closed ({Count} entries in force): no legacy jobs-manager can add a token this pod lacks; ready")]
    public static partial void LegacyIssuingClosed(ILogger logger, string marker, int count);

    [LoggerMessage(17, LogLevel.Warning, "Stateless proxy not ready: {Problem}")]
    public static partial void LegacyIssuingWaiting(ILogger logger, string problem);

    [LoggerMessage(15, LogLevel.Error, "Legacy token list update refused, the last good list stays in force: {Error}")]
    public static partial void LegacyTokenListRefused(ILogger logger, string error);

    [LoggerMessage(20, LogLevel.Information, "Request refused: 401 {Reason} on route {Route}")]
    public static partial void Unauthorized(ILogger logger, string reason, string route);

    [LoggerMessage(21, LogLevel.Information, "Request refused: 403 {Reason} on route {Route} for sub {Sub} jti {Jti}")]
    public static partial void Forbidden(ILogger logger, string reason, string route, string sub, string? jti);

    [LoggerMessage(22, LogLevel.Warning, "Request refused: 503 {Reason} on route {Route}")]
    public static partial void Unavailable(ILogger logger, string reason, string route);

    [LoggerMessage(23, LogLevel.Information, "Request refused: 413 body of {Length} bytes exceeds {Limit} on route {Route} for sub {Sub}")]
    public static partial void BodyTooLarge(ILogger logger, long length, long limit, string route, string sub);

    [LoggerMessage(24, LogLevel.Information, "Request refused: 413 chunked body passed {Limit} bytes on route {Route} for sub {Sub}; the upstream request was aborted")]
    public static partial void StreamedBodyTooLarge(ILogger logger, long limit, string route, string sub);

    [LoggerMessage(25, LogLevel.Information, "Request refused: {Status} {Reason} for {Method} on route {Route} for sub {Sub}")]
    public static partial void Rejected(ILogger logger, int status, string reason, string route, string method, string? sub);

    [LoggerMessage(27, LogLevel.Warning, "{Count} refusal log line(s) left out: over {PerSecond} a second (requests_proxy_requests_total counts every refusal)")]
    public static partial void RefusalsSuppressed(ILogger logger, long count, int perSecond);

    [LoggerMessage(28, LogLevel.Information, "Relay cut: {Reason} on route {Route} for sub {Sub} jti {Jti} after {Seconds:F0} s; the pod's connection (or HTTP/2 stream) and the upstream request were aborted")]
    public static partial void RelayCut(ILogger logger, string reason, string route, string sub, string? jti, double seconds);

    [LoggerMessage(30, LogLevel.Information, "Upstream credential loaded from {Path}")]
    public static partial void CredentialLoaded(ILogger logger, string path);

    [LoggerMessage(31, LogLevel.Error, "Upstream credential unavailable from {Path}: {Error}")]
    public static partial void CredentialUnavailable(ILogger logger, string path, string error);

    [LoggerMessage(40, LogLevel.Information, "Legacy token registered for sub {Sub} with scope '{Scope}'")]
    public static partial void LegacyRegistered(ILogger logger, string sub, string scope);

    [LoggerMessage(41, LogLevel.Information, "Legacy tokens forgotten for sub {Sub}: {Count}")]
    public static partial void LegacyForgotten(ILogger logger, string sub, int count);

    [LoggerMessage(44, LogLevel.Information, "Legacy token {Digest} forgotten (registered here: {Registered})")]
    public static partial void LegacyDigestForgotten(ILogger logger, string digest, bool registered);

    [LoggerMessage(42, LogLevel.Warning, "Admin request refused: {Reason}")]
    public static partial void AdminRefused(ILogger logger, string reason);

    [LoggerMessage(45, LogLevel.Warning, "Admin request {Method} {Path} from {Remote} carried the admin token itself (a jobs-manager older than signed admin requests): accepted on the compatibility path (REQUESTS_PROXY_ADMIN_ACCEPT_BEARER)")]
    public static partial void AdminBearerAccepted(ILogger logger, string method, string path, string remote);

    [LoggerMessage(43, LogLevel.Information, "Legacy registrations synced by the jobs-manager ({Count} registered here): ready")]
    public static partial void LegacySynced(ILogger logger, int count);

    [LoggerMessage(60, LogLevel.Information, "Admission webhook certificate loaded: {Subject}, expires {NotAfter:O}, thumbprint {Thumbprint}")]
    public static partial void AdmissionCertificateLoaded(ILogger logger, string subject, DateTime notAfter, string thumbprint);

    [LoggerMessage(61, LogLevel.Error, "Admission webhook certificate refused ({KeptLastGood} = the last good one stays in force): {Error}")]
    public static partial void AdmissionCertificateRefused(ILogger logger, string error, bool keptLastGood);

    /// <summary>
    /// Event 62, within the refusal log budget attached to <paramref name="logger"/>: anything that reaches the
    /// admission port can send a well-formed review naming the jobs-manager's user, so it is a refusal line
    /// a caller causes at will (A12). <c>requests_proxy_admission_reviews_total</c> counts every one.
    /// </summary>
    public static void AdmissionDenied(ILogger logger, string operation, string kind, string? @namespace, string? name, string? user, string rule, bool dryRun)
    {
        if (Metrics.RefusalLogBudget.Of(logger).MayLog(logger))
        {
            AdmissionDeniedLine(logger, operation, kind, @namespace, name, user, rule, dryRun);
        }
    }

    /// <summary>Event 63, within the refusal log budget attached to <paramref name="logger"/> (A12: any body to the admission port causes one).</summary>
    public static void AdmissionMalformed(ILogger logger, int status, string problem)
    {
        if (Metrics.RefusalLogBudget.Of(logger).MayLog(logger))
        {
            AdmissionMalformedLine(logger, status, problem);
        }
    }

    [LoggerMessage(62, LogLevel.Warning, "Admission denied: {Operation} of {Kind} {Namespace}/{Name} by {User}, rule {Rule} (dry run {DryRun})")]
    private static partial void AdmissionDeniedLine(ILogger logger, string operation, string kind, string? @namespace, string? name, string? user, string rule, bool dryRun);

    [LoggerMessage(63, LogLevel.Warning, "Admission review refused with {Status}: {Problem}")]
    private static partial void AdmissionMalformedLine(ILogger logger, int status, string problem);

    [LoggerMessage(50, LogLevel.Information, "Relayed {Method} on route {Route} for sub {Sub} jti {Jti}: {Status} in {DurationMs:F1} ms (forwarder error {ForwarderError})")]
    public static partial void Relayed(ILogger logger, string method, string route, string sub, string? jti, int status, double durationMs, string forwarderError);
}
