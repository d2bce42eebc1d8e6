using RequestsProxy.Server.Authentication;

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
        return limits.RefuseOverLimit(context, authorized.Caller) ?? next(context);
    }
}
