namespace RequestsProxy.Tokens.Jwt;

/// <summary>The outcome of validating one token: a failure reason, or the verified claims.</summary>
public readonly record struct TokenValidationResult(TokenFailure Failure, VerifiedClaims? Claims)
{
    public bool IsValid => Failure == TokenFailure.None;

    public string Reason => Failure.ToReason();

    public static TokenValidationResult Fail(TokenFailure failure) => new(failure, null);
}
