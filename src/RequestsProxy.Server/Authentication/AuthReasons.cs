namespace RequestsProxy.Server.Authentication;

/// <summary>
/// Reasons the proxy adds to the token library's (<see cref="Tokens.Jwt.TokenFailureReasons"/>):
/// stable lowercase identifiers used in responses, logs and metrics.
/// </summary>
internal static class AuthReasons
{
    public const string Ok = "ok";

    /// <summary>No Authorization header, or one with another scheme than Bearer.</summary>
    public const string MissingToken = "missing_token";

    /// <summary>Legacy mode: an opaque token nobody registered (or registered before a restart).</summary>
    public const string UnknownToken = "unknown_token";

    public const string MissingScope = "missing_scope";
    public const string SubjectMismatch = "subject_mismatch";
    public const string BodyTooLarge = "body_too_large";
    public const string NotReady = "not_ready";
    public const string CredentialUnavailable = "credential_unavailable";

    /// <summary>The path is under a bound pattern whose methods do not include the request's (405).</summary>
    public const string MethodNotAllowed = "method_not_allowed";

    /// <summary>TRACE or TRACK: their meaning is "reflect the request you received", which carries the upstream credential (405 on every route).</summary>
    public const string MethodNeverRelayed = "method_never_relayed";

    /// <summary>An upgrade (WebSocket, h2c, …) on a route without <c>AllowUpgrade</c>, or one that would change the method (400).</summary>
    public const string UpgradeNotAllowed = "upgrade_not_allowed";

    /// <summary>A relay (an upgraded tunnel, a slow stream) cut because it lasted <c>REQUESTS_PROXY_MAX_REQUEST_SECONDS</c> (A8).</summary>
    public const string MaxDuration = "max_duration";

    /// <summary>
    /// A path that is not in the one spelling the proxy relays (<see cref="Forwarding.CanonicalPath"/>:
    /// an encoded separator, a second encoding, <c>;params</c>, a dot or empty segment, …): never relayed (404).
    /// </summary>
    public const string NonCanonicalPath = "non_canonical_path";

    /// <summary><c>/admin/v1/…</c> or a management path on the pod-facing port, however spelled: never relayed (404).</summary>
    public const string ReservedPath = "reserved_path";
}
