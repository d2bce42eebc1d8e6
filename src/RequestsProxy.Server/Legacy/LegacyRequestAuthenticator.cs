using RequestsProxy.Server.Authentication;

namespace RequestsProxy.Server.Legacy;

/// <summary>Legacy mode: a token is valid exactly when this process registered it.</summary>
internal sealed class LegacyRequestAuthenticator(LegacyTokenRegistry registry) : IRequestAuthenticator
{
    public bool IsReady => true;

    public AuthenticationResult Authenticate(ReadOnlySpan<char> token)
    {
        if (token.Length == 0)
        {
            return AuthenticationResult.Fail(Tokens.Jwt.TokenFailureReasons.Malformed);
        }

        return registry.Find(token.ToString()) is { } caller
            ? new AuthenticationResult(caller, AuthReasons.Ok)
            : AuthenticationResult.Fail(AuthReasons.UnknownToken);
    }
}
