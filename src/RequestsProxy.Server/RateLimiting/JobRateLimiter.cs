using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.RateLimiting;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Metrics;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.RateLimiting;

/// <summary>
/// A fair share per job: per route, a token bucket and a concurrency limit for each token
/// <c>sub</c>, from System.Threading.RateLimiting's partitioned limiters. Runs after
/// authentication (the partition is the verified sub) and refuses with 429, Retry-After and a
/// JSON body. Each replica limits on its own: nothing is shared between proxy pods.
/// </summary>
/// <remarks>
/// Partitions are created on a job's first request and dropped by the partitioned limiter once
/// idle (a full bucket, no request in flight) for about ten seconds, so memory follows the jobs
/// active in the last seconds, not every sub ever seen. Its one 100 ms timer refills every bucket
/// (no timer per job).
/// </remarks>
internal sealed partial class JobRateLimiter : IDisposable
{
    private readonly ConditionalWeakTable<RouteConfig, JobLimits> _routes = [];
    private readonly PartitionedRateLimiter<LimitKey> _rate;
    private readonly PartitionedRateLimiter<LimitKey> _concurrency;
    private readonly ProxyMetrics _metrics;
    private readonly Counter<long> _limited;
    private readonly ILogger<JobRateLimiter> _logger;

    public JobRateLimiter(JobLimits defaults, ProxyMetrics metrics, IMeterFactory meterFactory, ILogger<JobRateLimiter> logger)
    {
        Defaults = defaults;
        _metrics = metrics;
        _logger = logger;
        _limited = meterFactory.Create(ProxyMetrics.MeterName).CreateCounter<long>("requests_proxy.rate_limited", "{request}",
            "Requests refused with 429 by the per-job limits, by route and reason (rate_limited, concurrency_limited).");
        _rate = PartitionedRateLimiter.Create<LimitKey, LimitKey>(key => RateLimitPartition.GetTokenBucketLimiter(key, Bucket));
        _concurrency = PartitionedRateLimiter.Create<LimitKey, LimitKey>(key => RateLimitPartition.GetConcurrencyLimiter(key,
            k => new ConcurrencyLimiterOptions { PermitLimit = k.Limits.Concurrent, QueueLimit = 0 }));
    }

    /// <summary>The limits of a route that sets none of its own.</summary>
    public JobLimits Defaults { get; }

    public JobLimits LimitsOf(RouteConfig route) =>
        _routes.TryGetValue(route, out var limits) ? limits : _routes.GetValue(route, r => JobLimitRules.ForRoute(r, Defaults));

    /// <summary>
    /// Takes the caller's share of <paramref name="route"/> for this request: null when within its
    /// limits (the concurrency permit is released when the response completes), else the task
    /// writing the 429.
    /// </summary>
    public Task? RefuseOverLimit(HttpContext context, RouteConfig route, CallerIdentity caller)
    {
        var limits = LimitsOf(route);
        if (limits.IsUnlimited)
        {
            return null;
        }

        var key = new LimitKey(route.RouteId, caller.Subject, limits);
        RateLimitLease? concurrency = null;
        if (limits.LimitsConcurrency)
        {
            concurrency = _concurrency.AttemptAcquire(key);
            if (!concurrency.IsAcquired)
            {
                concurrency.Dispose();
                return RefuseAsync(context, route.RouteId, caller, RateLimitNames.ConcurrencyLimited, retryAfterSeconds: 1);
            }

            context.Response.RegisterForDispose(concurrency);
        }

        if (limits.LimitsRate)
        {
            using var token = _rate.AttemptAcquire(key);
            if (!token.IsAcquired)
            {
                // The concurrency permit goes back now, not when the 429 is written.
                concurrency?.Dispose();
                var seconds = token.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 1;
                return RefuseAsync(context, route.RouteId, caller, RateLimitNames.RateLimited, Math.Max(1, seconds));
            }
        }

        return null;
    }

    public void Dispose()
    {
        _rate.Dispose();
        _concurrency.Dispose();
    }

    private static TokenBucketRateLimiterOptions Bucket(LimitKey key)
    {
        var rate = key.Limits.RequestsPerSecond;
        // The bucket fills continuously at TokensPerPeriod / ReplenishmentPeriod (the partitioned
        // limiter's timer tops it up every 100 ms); whole tokens per period keep that ratio exact.
        var tokens = rate >= 1 ? (int)Math.Min(Math.Round(rate), int.MaxValue) : 1;
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = key.Limits.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / rate),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
    }

    private Task RefuseAsync(HttpContext context, string route, CallerIdentity caller, string reason, int retryAfterSeconds)
    {
        _metrics.Refused(RequestOutcomes.Limited, reason);
        _limited.Add(1, new KeyValuePair<string, object?>("route", route), new KeyValuePair<string, object?>("reason", reason));
        LogRefused(_logger, reason, route, caller.Subject, retryAfterSeconds);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.ContentType = "application/json";
        var retryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        response.Headers.RetryAfter = retryAfter;
        // Reasons are fixed lowercase identifiers: no escaping needed.
        var body = Encoding.UTF8.GetBytes($"{{\"error\":\"too_many_requests\",\"error_description\":\"{reason}\",\"retry_after\":{retryAfter}}}");
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }

    // Debug: a flooding job would otherwise flood the log too; the metric counts every refusal.
    [LoggerMessage(26, LogLevel.Debug, "Request refused: 429 {Reason} on route {Route} for sub {Sub}, Retry-After {RetryAfter} s")]
    private static partial void LogRefused(ILogger logger, string reason, string route, string sub, int retryAfter);

    /// <summary>One partition: a job on a route under given limits (a changed route config gets fresh partitions).</summary>
    internal readonly record struct LimitKey(string RouteId, string Subject, JobLimits Limits);
}
