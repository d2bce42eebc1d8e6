using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The policy of each route config, built on first use. Keyed by the config instance, so a
/// reloaded configuration gets fresh policies and old ones are collected with their config.
/// </summary>
internal sealed class RoutePolicies(UpstreamCredentials credentials)
{
    private readonly ConditionalWeakTable<RouteConfig, RoutePolicy> _policies = [];

    public RoutePolicy Get(RouteConfig route) =>
        _policies.TryGetValue(route, out var policy) ? policy : _policies.GetValue(route, Create);

    private RoutePolicy Create(RouteConfig route)
    {
        var scope = RouteRules.Get(route, RouteMetadataKeys.RequiredScope)?.Trim();
        var subject = RouteRules.Get(route, RouteMetadataKeys.SubjectParameter)?.Trim();
        var credential = RouteRules.Get(route, RouteMetadataKeys.UpstreamCredentialFile)?.Trim();
        return new RoutePolicy(
            route.RouteId,
            string.IsNullOrEmpty(scope) ? null : scope,
            string.IsNullOrEmpty(subject) ? null : subject,
            string.IsNullOrEmpty(credential) ? null : credentials.Get(credential),
            string.Equals(RouteRules.Get(route, RouteMetadataKeys.AllowUpgrade)?.Trim(), "true", StringComparison.OrdinalIgnoreCase));
    }
}
