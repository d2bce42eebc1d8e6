namespace RequestsProxy.JobsApi;

/// <summary>One kid's live tokens; <see cref="SafeToRetire"/> is the fact a retirement needs.</summary>
public sealed record KidUsageResponse(string Kid, bool Active, bool InRing, int LiveTokens, int CurrentTokens, DateTimeOffset? LatestExpiry, bool SafeToRetire);
