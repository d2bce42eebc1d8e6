namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// One token a job has held, as the ledger keeps it: never the token, only what revoking it needs
/// (<see cref="Jti"/>, <see cref="Exp"/>, <see cref="Sub"/>) and what refreshing it needs
/// (<see cref="Kid"/>, <see cref="Iat"/>). Times are Unix seconds, like the revocation list's.
/// </summary>
internal sealed record JobLedgerToken(string Jti, string? Kid, string Sub, long Iat, long? Exp)
{
    public static JobLedgerToken From(string sub, IssuedToken token) =>
        new(token.Jti, token.Kid, sub, token.IssuedAt.ToUnixTimeSeconds(), token.ExpiresAt?.ToUnixTimeSeconds());

    public IssuedToken ToIssuedToken() =>
        new(Jti, Kid, DateTimeOffset.FromUnixTimeSeconds(Iat), Exp is { } exp ? DateTimeOffset.FromUnixTimeSeconds(exp) : null);

    /// <summary>The revocation list's rule: an entry may go once now ≥ exp + leeway (legacy tokens never expire).</summary>
    public bool IsUnexpired(DateTimeOffset now, TimeSpan leeway) => Exp is not { } exp || now < DateTimeOffset.FromUnixTimeSeconds(exp) + leeway;
}
