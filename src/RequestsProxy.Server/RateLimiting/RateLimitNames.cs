using RequestsProxy.Settings;

namespace RequestsProxy.Server.RateLimiting;

/// <summary>The settings of per-job limits: environment names (the defaults of every route) and route metadata keys (overrides).</summary>
internal static class RateLimitNames
{
    public const string RequestsPerSecondVariable = EnvironmentVariables.RateLimitPerSecond;
    public const string BurstVariable = EnvironmentVariables.RateLimitBurst;
    public const string ConcurrentVariable = EnvironmentVariables.ConcurrencyLimit;

    public const string RequestsPerSecondMetadata = "RateLimitPerSecond";
    public const string BurstMetadata = "RateLimitBurst";
    public const string ConcurrentMetadata = "ConcurrencyLimit";

    /// <summary>The reasons of a 429, in its body and in metrics.</summary>
    public const string RateLimited = "rate_limited";
    public const string ConcurrencyLimited = "concurrency_limited";
}
