namespace RequestsProxy.Tokens.Jwt;

/// <summary>A freshly signed token and the facts about it the jobs-manager keeps (never log <see cref="Token"/>).</summary>
public sealed record MintedToken(
    string Token,
    string Jti,
    string Kid,
    string Subject,
    string Scope,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt)
{
    public override string ToString() => $"MintedToken {{ Jti = {Jti}, Kid = {Kid}, Subject = {Subject}, ExpiresAt = {ExpiresAt:O} }}";
}
