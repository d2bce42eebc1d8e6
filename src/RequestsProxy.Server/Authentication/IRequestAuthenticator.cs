namespace RequestsProxy.Server.Authentication;

/// <summary>Turns a bearer token into a caller: JWT verification, or the legacy registry.</summary>
internal interface IRequestAuthenticator
{
    /// <summary>False while no token can be judged yet (no key ring loaded): answer 503, never 401.</summary>
    bool IsReady { get; }

    AuthenticationResult Authenticate(ReadOnlySpan<char> token);

    /// <summary>
    /// The same judgement of a token already accepted once, for a relay still in flight
    /// (<see cref="Forwarding.RelayLifetimes"/>): counted as no new acceptance.
    /// </summary>
    AuthenticationResult Recheck(ReadOnlySpan<char> token);
}
