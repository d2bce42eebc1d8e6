namespace RequestsProxy.Server.Authentication;

/// <summary>A caller, or the stable reason the token was refused.</summary>
internal readonly record struct AuthenticationResult(CallerIdentity? Caller, string Reason)
{
    public static AuthenticationResult Fail(string reason) => new(null, reason);
}
