using RequestsProxy.Server.Forwarding;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;
using Yarp.ReverseProxy.Model;

namespace RequestsProxy.Server.Authentication;

/// <summary>
/// Runs in YARP's pipeline, after the route is chosen and before anything is forwarded:
/// authenticate the bearer token, authorize it against the route and against every bound path
/// pattern, then hand over to the next step (per-job limits, then <see cref="RelayMiddleware"/>).
/// A bad token is always a 401 or 403 here, never an exception.
/// </summary>
internal sealed class ProxyAuthenticationMiddleware(
    RequestDelegate next,
    IRequestAuthenticator authenticator,
    RoutePolicies policies,
    SubjectBindings bindings,
    ProxyMetrics metrics,
    ProxySettings settings,
    RefusalLogBudget logBudget,
    ILogger<ProxyAuthenticationMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        var policy = policies.Get(route);

        if (ReservedPaths.IsReserved(context.Request.Path.Value))
        {
            // A catch-all matched a path of the proxy's own, spelled so that the proxy's endpoint did not.
            return RejectAsync(context, policy, StatusCodes.Status404NotFound, AuthReasons.ReservedPath, null);
        }

        if (IsReflectingMethod(context.Request.Method))
        {
            // The upstream would echo the request the proxy built, Authorization: Bearer <platform credential> included.
            context.Response.Headers.Allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
            return RejectAsync(context, policy, StatusCodes.Status405MethodNotAllowed, AuthReasons.MethodNeverRelayed, null);
        }

        if (CanonicalPath.Of(context) is not { } path)
        {
            // Readers disagree about such a path (A4): refused before anyone reads it, rather than guessed at.
            return RejectAsync(context, policy, StatusCodes.Status404NotFound, AuthReasons.NonCanonicalPath, null);
        }

        if (!authenticator.IsReady)
        {
            // Not a 401: the token may well be valid; the caller should retry (readyz keeps the Service away meanwhile).
            return UnavailableAsync(context, policy, AuthReasons.NotReady);
        }

        if (!BearerToken.TryRead(context.Request, out var token))
        {
            return UnauthorizedAsync(context, policy, AuthReasons.MissingToken);
        }

        var result = authenticator.Authenticate(token);
        if (result.Caller is not { } caller)
        {
            return result.Reason == AuthReasons.NotReady
                ? UnavailableAsync(context, policy, AuthReasons.NotReady)
                : UnauthorizedAsync(context, policy, result.Reason);
        }

        if (policy.RequiredScope is { } scope && !caller.HasScope(scope))
        {
            return ForbiddenAsync(context, policy, caller, AuthReasons.MissingScope, scope);
        }

        if (policy.SubjectParameter is { } parameter
            && !string.Equals(context.Request.RouteValues[parameter] as string, caller.Subject, StringComparison.Ordinal))
        {
            return ForbiddenAsync(context, policy, caller, AuthReasons.SubjectMismatch, null);
        }

        switch (bindings.Check(path, context.Request.Method, caller, route, out var boundScope, out var allowed, out var limitingRoute))
        {
            case PathVerdict.SubjectMismatch:
                return ForbiddenAsync(context, policy, caller, AuthReasons.SubjectMismatch, null);
            case PathVerdict.MissingScope:
                return ForbiddenAsync(context, policy, caller, AuthReasons.MissingScope, boundScope);
            case PathVerdict.MethodNotAllowed:
                context.Response.Headers.Allow = string.Join(", ", allowed!);
                return RejectAsync(context, policy, StatusCodes.Status405MethodNotAllowed, AuthReasons.MethodNotAllowed, caller);
            default:
                break;
        }

        if (UpgradeRequests.IsUpgrade(context) && !(policy.AllowUpgrade && UpgradeRequests.KeepsMethod(context)))
        {
            return RejectAsync(context, policy, StatusCodes.Status400BadRequest, AuthReasons.UpgradeNotAllowed, caller);
        }

        // A declared length over the limit is refused before a byte is relayed; a chunked body is
        // counted while it streams (RelayMiddleware).
        if (context.Request.ContentLength is { } length && length > settings.MaxRequestBodyBytes)
        {
            metrics.Refused(RequestOutcomes.Rejected, AuthReasons.BodyTooLarge);
            if (MayLog())
            {
                Log.BodyTooLarge(logger, length, settings.MaxRequestBodyBytes, policy.RouteId, caller.Subject);
            }

            return BearerChallenge.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, AuthReasons.BodyTooLarge);
        }

        string? upstreamAuthorization = null;
        if (policy.Credential is { } credential && (upstreamAuthorization = credential.Authorization) is null)
        {
            // Relaying without the credential would earn the pod an upstream 401 it cannot explain.
            return UnavailableAsync(context, policy, AuthReasons.CredentialUnavailable);
        }

        context.Features.Set(new AuthorizedRequest(caller, upstreamAuthorization, policy, limitingRoute));
        return next(context);
    }

    /// <summary>TRACE (RFC 9110 §9.3.8) and Microsoft's TRACK, whatever their case: never relayed, whatever the route says.</summary>
    internal static bool IsReflectingMethod(string method) =>
        HttpMethods.IsTrace(method) || string.Equals(method, "TRACK", StringComparison.OrdinalIgnoreCase);

    /// <summary>Within the refusal log budget (and the summary of what it left out written first).</summary>
    private bool MayLog() => logBudget.MayLog(logger);

    private Task UnauthorizedAsync(HttpContext context, RoutePolicy policy, string reason)
    {
        metrics.Refused(RequestOutcomes.Unauthorized, reason);
        if (MayLog())
        {
            Log.Unauthorized(logger, reason, policy.RouteId);
        }

        return BearerChallenge.WriteUnauthorizedAsync(context, reason);
    }

    private Task ForbiddenAsync(HttpContext context, RoutePolicy policy, CallerIdentity caller, string reason, string? scope)
    {
        metrics.Refused(RequestOutcomes.Forbidden, reason);
        if (MayLog())
        {
            Log.Forbidden(logger, reason, policy.RouteId, caller.Subject, caller.Jti);
        }

        return BearerChallenge.WriteForbiddenAsync(context, reason, scope);
    }

    private Task RejectAsync(HttpContext context, RoutePolicy policy, int status, string reason, CallerIdentity? caller)
    {
        metrics.Refused(RequestOutcomes.Rejected, reason);
        if (MayLog())
        {
            Log.Rejected(logger, status, reason, policy.RouteId, context.Request.Method, caller?.Subject);
        }

        return BearerChallenge.WriteErrorAsync(context, status, reason);
    }

    private Task UnavailableAsync(HttpContext context, RoutePolicy policy, string reason)
    {
        metrics.Refused(RequestOutcomes.Unavailable, reason);
        if (MayLog())
        {
            Log.Unavailable(logger, reason, policy.RouteId);
        }

        return BearerChallenge.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, reason, retryAfterSeconds: 1);
    }
}
