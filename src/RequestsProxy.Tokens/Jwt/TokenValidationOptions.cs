namespace RequestsProxy.Tokens.Jwt;

/// <summary>What a valid token must say, and how forgiving the clock is.</summary>
public sealed record TokenValidationOptions
{
    public string Audience { get; init; } = TokenDefaults.Audience;

    public string Issuer { get; init; } = TokenDefaults.Issuer;

    public TimeSpan Leeway { get; init; } = TokenDefaults.Leeway;

    /// <summary>Verified tokens remembered so the signature is checked once per token, not per request.</summary>
    public int CacheCapacity { get; init; } = 10_000;
}
