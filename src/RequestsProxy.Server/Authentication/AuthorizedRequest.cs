namespace RequestsProxy.Server.Authentication;

/// <summary>
/// What the authentication step hands to the upstream transform of the same request: the
/// verified caller and the route's upstream Authorization value (null: send none).
/// </summary>
internal sealed class AuthorizedRequest(CallerIdentity caller, string? upstreamAuthorization)
{
    public CallerIdentity Caller { get; } = caller;

    public string? UpstreamAuthorization { get; } = upstreamAuthorization;
}
