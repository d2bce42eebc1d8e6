using System.Diagnostics;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The access log (off by default, <c>REQUESTS_PROXY_ACCESS_LOG</c>): one line per relayed request — route, sub, jti,
/// status, duration — event id 50. Sampled 1 in <c>REQUESTS_PROXY_ACCESS_LOG_EVERY</c> per replica; a failed relay (a
/// 5xx or a forwarder error) is logged too, within the refusal log budget: a pod causes failed relays at will (closing
/// its connection mid-answer), and the sampling must not be its way around the budget (A12). Refusals are not relayed
/// requests: they have their own lines (20–25).
/// </summary>
internal sealed class AccessLogMiddleware(RequestDelegate next, ProxySettings settings, RefusalLogBudget logBudget, ILogger<AccessLogMiddleware> logger)
{
    private long _relayed;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!settings.AccessLog)
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        await next(context);
        if (context.Features.Get<AuthorizedRequest>() is not { } authorized)
        {
            return;
        }

        var failure = context.Features.Get<IForwarderErrorFeature>();
        var status = context.Response.StatusCode;
        var sampled = Interlocked.Increment(ref _relayed) % settings.AccessLogEvery == 0;
        if (sampled || ((failure is not null || status >= StatusCodes.Status500InternalServerError) && logBudget.MayLog(logger)))
        {
            Log.Relayed(logger, context.Request.Method, context.GetReverseProxyFeature().Route.Config.RouteId, authorized.Caller.Subject,
                authorized.Caller.Jti, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds, failure?.Error.ToString() ?? "none");
        }
    }
}
