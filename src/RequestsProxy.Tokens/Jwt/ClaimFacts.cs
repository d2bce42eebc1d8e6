namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// What <see cref="JwtClaimReader"/> found in a payload: which claims are present, whether aud and
/// iss match, the NumericDates, and where the string claims' bytes are in the values workspace.
/// </summary>
internal struct ClaimFacts
{
    public bool HasSub;
    public bool HasJti;
    public bool HasIss;
    public bool HasAud;
    public bool HasExp;
    public bool HasNbf;
    public bool HasIat;
    public bool AudienceMatches;
    public bool IssuerMatches;
    public int SubOffset;
    public int SubLength;
    public int JtiOffset;
    public int JtiLength;
    public int ScopeOffset;
    public int ScopeLength;
    public double Exp;
    public double Nbf;
    public double Iat;

    /// <summary>Every claim a token must have, with a non-empty sub and jti.</summary>
    public readonly bool IsComplete => HasSub && HasJti && HasIss && HasAud && HasExp && SubLength > 0 && JtiLength > 0;
}
