namespace RequestsProxy.Tokens.Jwt;

/// <summary>The stable lowercase identifiers used in logs, metrics, WWW-Authenticate and the CLI.</summary>
public static class TokenFailureReasons
{
    public const string Malformed = "malformed";
    public const string UnsupportedAlg = "unsupported_alg";
    public const string UnknownKid = "unknown_kid";
    public const string BadSignature = "bad_signature";
    public const string Expired = "expired";
    public const string NotYetValid = "not_yet_valid";
    public const string WrongAudience = "wrong_audience";
    public const string WrongIssuer = "wrong_issuer";
    public const string Revoked = "revoked";

    public static string ToReason(this TokenFailure failure) => failure switch
    {
        TokenFailure.None => "ok",
        TokenFailure.Malformed => Malformed,
        TokenFailure.UnsupportedAlg => UnsupportedAlg,
        TokenFailure.UnknownKid => UnknownKid,
        TokenFailure.BadSignature => BadSignature,
        TokenFailure.Expired => Expired,
        TokenFailure.NotYetValid => NotYetValid,
        TokenFailure.WrongAudience => WrongAudience,
        TokenFailure.WrongIssuer => WrongIssuer,
        TokenFailure.Revoked => Revoked,
        _ => throw new ArgumentOutOfRangeException(nameof(failure), failure, null),
    };
}
