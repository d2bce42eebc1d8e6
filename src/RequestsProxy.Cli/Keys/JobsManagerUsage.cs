using RequestsProxy.JobsApi;

namespace RequestsProxy.Cli.Keys;

/// <summary>What <c>GET /v1/keys/usage</c> told: live tokens per kid, and the lifetime and leeway the jobs-manager runs with (null from an older one).</summary>
internal sealed record JobsManagerUsage(IReadOnlyDictionary<string, KidUsageResponse> Kids, TimeSpan? Lifetime, TimeSpan? Leeway);
