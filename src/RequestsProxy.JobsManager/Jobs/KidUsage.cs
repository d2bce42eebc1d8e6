namespace RequestsProxy.JobsManager.Jobs;

/// <param name="LiveTokens">Unexpired, unrevoked tokens signed with the kid (current and superseded ones of live jobs).</param>
/// <param name="CurrentTokens">Jobs whose current token is signed with the kid.</param>
/// <param name="LatestExpiry">When the last of those tokens expires: the kid is safe to retire after it (plus leeway).</param>
internal sealed record KidUsage(string Kid, bool Active, bool InRing, int LiveTokens, int CurrentTokens, DateTimeOffset? LatestExpiry);
