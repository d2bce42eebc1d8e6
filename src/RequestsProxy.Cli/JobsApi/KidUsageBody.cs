namespace RequestsProxy.Cli.JobsApi;

/// <summary>One kid in <c>GET /v1/keys/usage</c>.</summary>
internal sealed record KidUsageBody(string Kid, bool Active, bool InRing, int LiveTokens, int CurrentTokens, DateTimeOffset? LatestExpiry, bool SafeToRetire);
