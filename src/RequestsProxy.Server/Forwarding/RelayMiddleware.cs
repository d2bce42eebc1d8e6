using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;
using Yarp.ReverseProxy.Forwarder;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The last step before YARP forwards an authorized request: drop the headers only a proxy may
/// assert, count a streamed body in payload bytes, keep the relay no longer than its token
/// (<see cref="RelayLifetimes"/>), time it and record its outcome; a streamed body cut at the limit
/// is a counted 413.
/// </summary>
internal sealed class RelayMiddleware(RequestDelegate next, ProxyMetrics metrics, ProxySettings settings, RelayLifetimes lifetimes, RefusalLogBudget logBudget, ILogger<RelayMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var authorized = context.Features.Get<AuthorizedRequest>()
            ?? throw new InvalidOperationException("a request reached the relay without passing authentication");

        if (context.Request.ContentLength is null && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            // Kestrel would count chunk framing against the limit; the payload is what is limited.
            size.MaxRequestBodySize = null;
            context.Request.Body = new PayloadLimitStream(context.Request.Body, settings.MaxRequestBodyBytes);
        }

        // Before YARP copies the request: no transform, ours or a route's, ever sees the pod's values (A9).
        ProxyAssertedHeaders.RemoveFrom(context.Request.Headers);

        var started = Stopwatch.GetTimestamp();
        // Until the forwarder is done (for an upgrade: until the tunnel closes), judged again every second (A8).
        using (lifetimes.Track(context, authorized))
        {
            await next(context);
        }

        var failure = context.Features.Get<IForwarderErrorFeature>();
        if (failure is { Error: ForwarderError.RequestBodyClient } && IsBodyTooLarge(failure.Exception))
        {
            // The upstream saw an aborted request, never a complete one. Answered and counted like a declared oversize body.
            metrics.Refused(RequestOutcomes.Rejected, AuthReasons.BodyTooLarge);
            if (logBudget.MayLog(logger))
            {
                Log.StreamedBodyTooLarge(logger, settings.MaxRequestBodyBytes, authorized.Policy.RouteId, authorized.Caller.Subject);
            }
            if (!context.Response.HasStarted)
            {
                await BearerChallenge.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, AuthReasons.BodyTooLarge);
            }

            return;
        }

        metrics.Forwarded(authorized.Policy.RouteId, Stopwatch.GetElapsedTime(started).TotalSeconds, failure is null ? "none" : ErrorName(failure.Error));
    }

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PayloadTooLargeException or BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
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
