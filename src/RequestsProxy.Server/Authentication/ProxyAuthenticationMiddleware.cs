using System.Diagnostics;
using RequestsProxy.Server.Forwarding;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Server.RateLimiting;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace RequestsProxy.Server.Authentication;

/// <summary>
/// Runs in YARP's pipeline, after the route is chosen and before anything is forwarded:
/// authenticate the bearer token, authorize it against the route, then relay.
/// A bad token is always a 401 or 403 here, never an exception.
/// </summary>
internal sealed class ProxyAuthenticationMiddleware(
    RequestDelegate next,
    IRequestAuthenticator authenticator,
    RoutePolicies policies,
    ProxyMetrics metrics,
    ProxySettings settings,
    JobRateLimiter limits,
    ILogger<ProxyAuthenticationMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var policy = policies.Get(context.GetReverseProxyFeature().Route.Config);

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
            return UnauthorizedAsync(context, policy, result.Reason);
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

        // A declared length over the limit is refused before a byte is relayed; a chunked body is
        // cut by Kestrel's MaxRequestBodySize while streaming.
        if (context.Request.ContentLength is { } length && length > settings.MaxRequestBodyBytes)
        {
            metrics.Refused(RequestOutcomes.Rejected, AuthReasons.BodyTooLarge);
            Log.BodyTooLarge(logger, length, settings.MaxRequestBodyBytes, policy.RouteId, caller.Subject);
            return BearerChallenge.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, AuthReasons.BodyTooLarge);
        }

        string? upstreamAuthorization = null;
        if (policy.Credential is { } credential && (upstreamAuthorization = credential.Authorization) is null)
        {
            // Relaying without the credential would earn the pod an upstream 401 it cannot explain.
            return UnavailableAsync(context, policy, AuthReasons.CredentialUnavailable);
        }

        // After authentication: the limits are per verified sub (a fair share per job).
        if (limits.RefuseOverLimit(context, caller) is { } refused)
        {
            return refused;
        }

        context.Features.Set(new AuthorizedRequest(caller, upstreamAuthorization));
        return ForwardAsync(context, policy, caller);
    }

    private async Task ForwardAsync(HttpContext context, RoutePolicy policy, CallerIdentity caller)
    {
        var started = Stopwatch.GetTimestamp();
        await next(context);
        var failure = context.Features.Get<IForwarderErrorFeature>();
        if (failure is { Error: ForwarderError.RequestBodyClient } && IsBodyTooLarge(failure.Exception))
        {
            // A chunked body cut by Kestrel at MaxRequestBodySize mid-relay: the upstream saw an
            // aborted request, never a complete one. Answer and count it like a declared oversize body.
            metrics.Refused(RequestOutcomes.Rejected, AuthReasons.BodyTooLarge);
            Log.StreamedBodyTooLarge(logger, settings.MaxRequestBodyBytes, policy.RouteId, caller.Subject);
            if (!context.Response.HasStarted)
            {
                await BearerChallenge.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, AuthReasons.BodyTooLarge);
            }

            return;
        }

        metrics.Forwarded(policy.RouteId, Stopwatch.GetElapsedTime(started).TotalSeconds, failure is null ? "none" : ErrorName(failure.Error));
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    private Task UnauthorizedAsync(HttpContext context, RoutePolicy policy, string reason)
    {
        metrics.Refused(RequestOutcomes.Unauthorized, reason);
        Log.Unauthorized(logger, reason, policy.RouteId);
        return BearerChallenge.WriteUnauthorizedAsync(context, reason);
    }

    private Task ForbiddenAsync(HttpContext context, RoutePolicy policy, CallerIdentity caller, string reason, string? scope)
    {
        metrics.Refused(RequestOutcomes.Forbidden, reason);
        Log.Forbidden(logger, reason, policy.RouteId, caller.Subject, caller.Jti);
        return BearerChallenge.WriteForbiddenAsync(context, reason, scope);
    }

    private Task UnavailableAsync(HttpContext context, RoutePolicy policy, string reason)
    {
        metrics.Refused(RequestOutcomes.Unavailable, reason);
        Log.Unavailable(logger, reason, policy.RouteId);
        return BearerChallenge.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, reason, retryAfterSeconds: 1);
    }

    // snake_case names for the metric tag; the enum is small and fixed.
    private static string ErrorName(ForwarderError error) => error switch
    {
        ForwarderError.RequestTimedOut => "timeout",
        ForwarderError.Request => "request",
        ForwarderError.RequestCanceled => "request_canceled",
        ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled => "request_body_client",
        ForwarderError.RequestBodyDestination => "request_body_upstream",
        ForwarderError.ResponseBodyClient or ForwarderError.ResponseBodyCanceled => "response_body_client",
        ForwarderError.ResponseBodyDestination => "response_body_upstream",
        ForwarderError.NoAvailableDestinations => "no_destination",
        _ => "other",
    };
}
