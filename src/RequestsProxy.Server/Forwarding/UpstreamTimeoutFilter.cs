using RequestsProxy.Server.Hosting;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace RequestsProxy.Server.Forwarding;

/// <summary>Gives every cluster that sets no ActivityTimeout of its own the configured upstream timeout.</summary>
internal sealed class UpstreamTimeoutFilter(ProxySettings settings) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (cluster.HttpRequest?.ActivityTimeout is not null)
        {
            return ValueTask.FromResult(cluster);
        }

        var request = (cluster.HttpRequest ?? new ForwarderRequestConfig()) with { ActivityTimeout = settings.UpstreamTimeout };
        return ValueTask.FromResult(cluster with { HttpRequest = request });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(route);
}
