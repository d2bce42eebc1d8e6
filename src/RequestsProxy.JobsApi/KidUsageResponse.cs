namespace RequestsProxy.JobsApi;

/// <summary>One kid's live tokens; <see cref="SafeToRetire"/> is the fact a retirement needs.</summary>
/// <param name="RevokedTokens">Unexpired tokens signed with the kid that are revoked: not in <paramref name="LiveTokens"/> (a revoked token needs no key). 0 from an older jobs-manager.</param>
/// <param name="UnreachableTokens">Of <paramref name="LiveTokens"/>, those held by jobs in state unreachable (stop them to free the kid). 0 from an older jobs-manager.</param>
public sealed record KidUsageResponse(string Kid, bool Active, bool InRing, int LiveTokens, int CurrentTokens, DateTimeOffset? LatestExpiry, bool SafeToRetire,
    int RevokedTokens = 0, int UnreachableTokens = 0);
