using RequestsProxy.Server.Forwarding;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Authentication;

/// <summary>
/// What the authentication step hands to the steps after it (per-job limits, the relay, the
/// upstream transform) of the same request: the verified caller, the route's policy and the
/// route's upstream Authorization value (null: send none), and the bound route whose per-job limits
/// the request spends when its path is under one (null: the matched route's).
/// </summary>
internal sealed class AuthorizedRequest(CallerIdentity caller, string? upstreamAuthorization, RoutePolicy policy, RouteConfig? limitingRoute = null)
{
    public RouteConfig? LimitingRoute { get; } = limitingRoute;

    public CallerIdentity Caller { get; } = caller;

    public string? UpstreamAuthorization { get; } = upstreamAuthorization;

    public RoutePolicy Policy { get; } = policy;
}
