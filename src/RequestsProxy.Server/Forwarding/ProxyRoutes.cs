using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// Where the routes come from, in order: the routes file, the app's own <c>ReverseProxy</c>
/// section, or the single catch-all route of <c>REQUESTS_PROXY_UPSTREAM</c>.
/// </summary>
internal static class ProxyRoutes
{
    public const string CatchAllRouteId = "catch-all";
    public const string CatchAllClusterId = "upstream";

    /// <summary>Loads the routes into YARP; returns how many and from where, for the start-up log.</summary>
    public static (int Count, string Source) Configure(IReverseProxyBuilder proxy, IConfiguration configuration, ProxySettings settings)
    {
        if (settings.RoutesFile is { } file)
        {
            var root = new ConfigurationBuilder().AddJsonFile(file, optional: false, reloadOnChange: false).Build();
            // Accept both {"ReverseProxy": {...}} (the chart's form) and the bare section.
            var section = root.GetSection("ReverseProxy");
            IConfiguration source = section.Exists() ? section : root;
            proxy.LoadFromConfig(source);
            return (source.GetSection("Routes").GetChildren().Count(), file);
        }

        var own = configuration.GetSection("ReverseProxy");
        if (own.GetSection("Routes").Exists())
        {
            proxy.LoadFromConfig(own);
            return (own.GetSection("Routes").GetChildren().Count(), "configuration section ReverseProxy");
        }

        if (settings.Upstream is { } upstream)
        {
            var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                [RouteMetadataKeys.RequiredScope] = "",
            };
            if (settings.UpstreamCredentialFile is { } credential)
            {
                metadata[RouteMetadataKeys.UpstreamCredentialFile] = credential;
            }

            var route = new RouteConfig
            {
                RouteId = CatchAllRouteId,
                ClusterId = CatchAllClusterId,
                Match = new RouteMatch { Path = "/{**catch-all}" },
                Metadata = metadata,
            };
            var cluster = new ClusterConfig
            {
                ClusterId = CatchAllClusterId,
                Destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase)
                {
                    ["default"] = new() { Address = upstream.ToString() },
                },
            };
            proxy.LoadFromMemory([route], [cluster]);
            return (1, EnvironmentVariables.Upstream);
        }

        throw new InvalidSettingsException(
        [
            $"no routes: set {EnvironmentVariables.RoutesFile} (or mount {ProxySettings.DefaultRoutesFile}), a ReverseProxy configuration section, or {EnvironmentVariables.Upstream}",
        ]);
    }
}
