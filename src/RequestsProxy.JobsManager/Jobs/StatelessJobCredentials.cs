using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>Stateless mode: HS256 JWTs from the active key; a stop appends their jtis to the revocation list.</summary>
internal sealed class StatelessJobCredentials(TokenIssuer issuer, IKeyRingSource keys, RevocationLedger ledger, JobsManagerOptions options, TimeProvider time) : IJobCredentials
{
    public bool Expires => true;

    public string? ActiveKid => keys.Current?.ActiveKid;

    public bool IsReady => keys.Current is not null;

    public Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken)
    {
        var minted = issuer.Mint(new TokenRequest(subject)
        {
            Lifetime = options.TokenLifetime,
            Scope = scope,
            Audience = options.Audience,
            Issuer = options.Issuer,
        });
        return Task.FromResult(new JobCredential(minted.Token, new IssuedToken(minted.Jti, minted.Kid, minted.IssuedAt, minted.ExpiresAt)));
    }

    public async Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var entries = tokens
            .Where(t => t.IsUnexpired(now, options.Leeway))
            .Select(t => new RevocationEntry(t.Jti, t.ExpiresAt?.ToUnixTimeSeconds(), subject))
            .ToList();
        await ledger.AddAsync(entries, cancellationToken).ConfigureAwait(false);
        return entries.Count;
    }
}
