namespace RequestsProxy.Tokens.Jwt;

/// <summary>What to put in a new token.</summary>
public sealed record TokenRequest(string Subject)
{
    public TimeSpan Lifetime { get; init; } = TokenDefaults.Lifetime;

    public string Scope { get; init; } = TokenDefaults.Scope;

    public string Audience { get; init; } = TokenDefaults.Audience;

    public string Issuer { get; init; } = TokenDefaults.Issuer;
}
