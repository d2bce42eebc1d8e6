using RequestsProxy.Server.Forwarding;

namespace RequestsProxy.Server.Authentication;

/// <summary>
/// What the authentication step hands to the steps after it (per-job limits, the relay, the
/// upstream transform) of the same request: the verified caller, the route's policy and the
/// route's upstream Authorization value (null: send none).
/// </summary>
internal sealed class AuthorizedRequest(CallerIdentity caller, string? upstreamAuthorization, RoutePolicy policy)
{
    public CallerIdentity Caller { get; } = caller;

    public string? UpstreamAuthorization { get; } = upstreamAuthorization;

    public RoutePolicy Policy { get; } = policy;
}
