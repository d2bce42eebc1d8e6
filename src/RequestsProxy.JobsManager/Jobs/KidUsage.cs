namespace RequestsProxy.JobsManager.Jobs;

/// <param name="LiveTokens">Unexpired, unrevoked tokens signed with the kid (current and superseded ones of live jobs).</param>
/// <param name="CurrentTokens">Jobs whose current token is signed with the kid.</param>
/// <param name="LatestExpiry">When the last of those tokens expires: the kid is safe to retire after it (plus leeway).</param>
/// <param name="RevokedTokens">
/// Unexpired tokens signed with the kid that are revoked (their job's tokens were revoked, or their jti is in
/// the revocation list): left out of <paramref name="LiveTokens"/>, since a revoked token needs no key.
/// </param>
/// <param name="UnreachableTokens">Of <paramref name="LiveTokens"/>, those held by jobs the jobs-manager may not read (state unreachable): stop them to free the kid.</param>
internal sealed record KidUsage(string Kid, bool Active, bool InRing, int LiveTokens, int CurrentTokens, DateTimeOffset? LatestExpiry, int RevokedTokens = 0, int UnreachableTokens = 0);
