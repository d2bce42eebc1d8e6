namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// One revoked token. <see cref="Exp"/> (NumericDate) lets the entry be pruned once the token
/// would have expired anyway; a bare jti (no exp) is kept until removed by hand.
/// </summary>
public sealed record RevocationEntry(string Jti, long? Exp = null, string? Sub = null);
