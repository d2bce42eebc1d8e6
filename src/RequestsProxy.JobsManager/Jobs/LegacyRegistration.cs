namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// One registration in the proxy's legacy <c>POST /admin/v1/tokens</c> and <c>POST /admin/v1/sync</c>:
/// the token's digest (<see cref="Tokens.Legacy.LegacyTokenDigest"/>), never the token — a replica
/// keys its registry by digest and computes the digest of each token presented to it.
/// </summary>
internal sealed record LegacyRegistration(string Digest, string Sub, string Scope);
