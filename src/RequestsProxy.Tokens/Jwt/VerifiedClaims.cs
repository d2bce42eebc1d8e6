namespace RequestsProxy.Tokens.Jwt;

/// <summary>The claims of a token whose signature, audience and issuer checked out.</summary>
public sealed class VerifiedClaims
{
    private readonly string[] _scopes;

    public VerifiedClaims(string subject, string jti, string kid, string scope, double expiresAt, double? notBefore, double? issuedAt)
    {
        Subject = subject;
        Jti = jti;
        Kid = kid;
        Scope = scope;
        ExpiresAt = expiresAt;
        NotBefore = notBefore;
        IssuedAt = issuedAt;
        _scopes = scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public string Subject { get; }

    public string Jti { get; }

    public string Kid { get; }

    /// <summary>Space-separated scopes as in the token ("" when absent).</summary>
    public string Scope { get; }

    /// <summary>NumericDate (seconds since the epoch, may be fractional).</summary>
    public double ExpiresAt { get; }

    public double? NotBefore { get; }

    public double? IssuedAt { get; }

    public IReadOnlyList<string> Scopes => _scopes;

    public bool HasScope(string scope) => Array.IndexOf(_scopes, scope) >= 0;
}
