using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Authentication;

/// <summary>Stateless mode: the token library decides; this only adapts its result.</summary>
internal sealed class JwtRequestAuthenticator(TokenSources sources) : IRequestAuthenticator
{
    private readonly Tokens.Jwt.TokenValidator _validator =
        sources.Validator ?? throw new InvalidOperationException("stateless mode without token sources");

    public bool IsReady => sources.IsReady;

    public AuthenticationResult Authenticate(ReadOnlySpan<char> token)
    {
        var result = _validator.Validate(token);
        if (!result.IsValid)
        {
            return AuthenticationResult.Fail(result.Reason);
        }

        var claims = result.Claims!;
        return new AuthenticationResult(new CallerIdentity(claims.Subject, claims.Jti, claims.Scopes), AuthReasons.Ok);
    }
}
