namespace RequestsProxy.Tokens.Jwt;

/// <summary>Why a token was refused, in the order the checks run (DESIGN §4).</summary>
public enum TokenFailure
{
    None = 0,
    Malformed,
    UnsupportedAlg,
    UnknownKid,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    Revoked,
}
