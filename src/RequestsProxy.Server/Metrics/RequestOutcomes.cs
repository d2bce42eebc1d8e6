namespace RequestsProxy.Server.Metrics;

/// <summary>The <c>outcome</c> tag values of <c>requests_proxy.requests</c>.</summary>
internal static class RequestOutcomes
{
    public const string Forwarded = "forwarded";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string Rejected = "rejected";
    public const string Unavailable = "unavailable";

    /// <summary>429: over the job's per-route rate or concurrency limit (RateLimiting/).</summary>
    public const string Limited = "limited";
}
