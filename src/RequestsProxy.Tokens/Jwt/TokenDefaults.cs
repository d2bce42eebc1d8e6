namespace RequestsProxy.Tokens.Jwt;

/// <summary>Documented defaults of the token format (DESIGN §4, §8).</summary>
public static class TokenDefaults
{
    public const string Issuer = "jobs-manager";
    public const string Audience = "requests-proxy";
    public const string Algorithm = "HS256";
    public const int MaxTokenLength = 4096;
    public const string Scope = "results:write flops:write";

    public static readonly TimeSpan Leeway = TimeSpan.FromSeconds(30);

    /// <summary>90 days, aligned with the quarterly key rotation.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(7_776_000);
}
