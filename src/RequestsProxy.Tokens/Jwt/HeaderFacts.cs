namespace RequestsProxy.Tokens.Jwt;

/// <summary>What <see cref="JwtClaimReader"/> found in a JOSE header; the kid's bytes are at an offset of the values workspace.</summary>
internal struct HeaderFacts
{
    public bool AlgorithmIsHs256;
    public bool HasKid;
    public int KidOffset;
    public int KidLength;
}
