namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// The claims of a verified token as UTF-8 spans over the caller's workspace: reading them
/// allocates nothing. Valid only while that workspace is.
/// </summary>
public readonly ref struct TokenView
{
    public TokenView(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> jti, ReadOnlySpan<byte> scope, ReadOnlySpan<byte> kid, double expiresAt, double? notBefore, double? issuedAt, long ringGeneration)
    {
        Subject = subject;
        Jti = jti;
        Scope = scope;
        Kid = kid;
        ExpiresAt = expiresAt;
        NotBefore = notBefore;
        IssuedAt = issuedAt;
        RingGeneration = ringGeneration;
    }

    public ReadOnlySpan<byte> Subject { get; }

    public ReadOnlySpan<byte> Jti { get; }

    public ReadOnlySpan<byte> Scope { get; }

    public ReadOnlySpan<byte> Kid { get; }

    public double ExpiresAt { get; }

    public double? NotBefore { get; }

    public double? IssuedAt { get; }

    /// <summary>The generation of the key ring whose key verified the signature.</summary>
    public long RingGeneration { get; }

    public VerifiedClaims ToClaims() => new(
        System.Text.Encoding.UTF8.GetString(Subject),
        System.Text.Encoding.UTF8.GetString(Jti),
        System.Text.Encoding.UTF8.GetString(Kid),
        System.Text.Encoding.UTF8.GetString(Scope),
        ExpiresAt,
        NotBefore,
        IssuedAt);
}
