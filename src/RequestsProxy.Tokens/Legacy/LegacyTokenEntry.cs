namespace RequestsProxy.Tokens.Legacy;

/// <summary>
/// One live legacy opaque token, as the mounted list keeps it: its digest
/// (<see cref="LegacyTokenDigest"/>), never the token. <see cref="Until"/> (Unix seconds) ends it
/// on its own: set when the job got a signed token instead, so the list forgets the old one even
/// if nobody removes the entry.
/// </summary>
public sealed record LegacyTokenEntry(string Digest, string Sub, string Scope, long? Until = null)
{
    /// <summary>The entry still authenticates at <paramref name="nowSeconds"/> (Unix seconds).</summary>
    public bool IsLive(long nowSeconds) => Until is not { } until || nowSeconds < until;
}
