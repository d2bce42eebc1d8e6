namespace RequestsProxy.Server.Authentication;

/// <summary>Turns a bearer token into a caller: JWT verification, or the legacy registry.</summary>
internal interface IRequestAuthenticator
{
    /// <summary>False while no token can be judged yet (no key ring loaded): answer 503, never 401.</summary>
    bool IsReady { get; }

    AuthenticationResult Authenticate(ReadOnlySpan<char> token);
}
