using RequestsProxy.Server.Authentication;
using Yarp.ReverseProxy.Model;

namespace RequestsProxy.Server.RateLimiting;

/// <summary>
/// The per-job limits' step in YARP's pipeline: after authentication (the caller is verified, so
/// the partition is a real job) and before the relay. Over a limit the answer is the 429; nothing is relayed.
/// </summary>
internal sealed class JobLimitMiddleware(RequestDelegate next, JobRateLimiter limits)
{
    public Task InvokeAsync(HttpContext context)
    {
        var authorized = context.Features.Get<AuthorizedRequest>()
            ?? throw new InvalidOperationException($"{nameof(JobLimitMiddleware)} runs after {nameof(ProxyAuthenticationMiddleware)}");
        // A path under a bound route spends that route's share, whichever route matched it: else a
        // job would double its share on the same resource by spelling it for a catch-all.
        var route = authorized.LimitingRoute ?? context.GetReverseProxyFeature().Route.Config;
        return limits.RefuseOverLimit(context, route, authorized.Caller) ?? next(context);
    }
}
