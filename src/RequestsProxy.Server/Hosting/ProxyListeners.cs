using RequestsProxy.Settings;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// The two sets of listening addresses: pod-facing (<c>--urls</c> / <c>ASPNETCORE_URLS</c> /
/// <c>ASPNETCORE_HTTP_PORTS</c>, default <c>http://0.0.0.0:8888</c>) and management
/// (<c>REQUESTS_PROXY_MANAGEMENT_URLS</c>, default <c>http://0.0.0.0:9090</c>). Kestrel is given
/// them as explicit endpoints so management connections can be told apart (a connection feature,
/// not the client-chosen Host header).
/// </summary>
internal sealed class ProxyListeners
{
    private readonly List<ListenOptions> _pods = [];
    private readonly List<ListenOptions> _management = [];

    private ProxyListeners(IReadOnlyList<BindingAddress> pods, IReadOnlyList<BindingAddress> management)
    {
        PodUrls = pods;
        ManagementUrls = management;
    }

    public IReadOnlyList<BindingAddress> PodUrls { get; }

    public IReadOnlyList<BindingAddress> ManagementUrls { get; }

    /// <summary>Bound pod-facing addresses (real ports once the server has started).</summary>
    public IReadOnlyList<Uri> PodAddresses => Addresses(_pods);

    /// <summary>Bound management addresses (real ports once the server has started).</summary>
    public IReadOnlyList<Uri> ManagementAddresses => Addresses(_management);

    /// <exception cref="InvalidSettingsException">An address cannot be listened on, or both sets share a port.</exception>
    public static ProxyListeners Parse(string podUrls, string podSource, string managementUrls)
    {
        var errors = new List<string>();
        var pods = ParseUrls(podUrls, podSource, errors);
        var management = ParseUrls(managementUrls, EnvironmentVariables.ManagementUrls, errors);
        foreach (var shared in pods.Select(p => p.Port).Intersect(management.Select(m => m.Port)).Where(p => p != 0))
        {
            errors.Add($"{EnvironmentVariables.ManagementUrls}: port {shared} is also a pod-facing port; management must have a port of its own");
        }

        if (errors.Count > 0)
        {
            throw new InvalidSettingsException(errors);
        }

        return new ProxyListeners(pods, management);
    }

    /// <param name="perClient">The per-client cap of the pod-facing addresses, or null for none.</param>
    public void Configure(KestrelServerOptions kestrel, ClientConnectionLimit? perClient = null)
    {
        foreach (var address in PodUrls)
        {
            Listen(kestrel, address, options =>
            {
                if (perClient is not null)
                {
                    options.Use(perClient.Middleware);
                }

                _pods.Add(options);
            });
        }

        foreach (var address in ManagementUrls)
        {
            Listen(kestrel, address, options =>
            {
                options.Use(next => connection =>
                {
                    connection.Features.Set(ManagementConnection.Instance);
                    return next(connection);
                });
                _management.Add(options);
            });
        }
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress address, Action<ListenOptions> configure)
    {
        if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (address.Host is "*" or "+" or "")
        {
            kestrel.ListenAnyIP(address.Port, configure);
        }
        else
        {
            kestrel.Listen(IPAddress.Parse(address.Host.Trim('[', ']')), address.Port, configure);
        }
    }

    private static List<BindingAddress> ParseUrls(string urls, string source, List<string> errors)
    {
        var parsed = new List<BindingAddress>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException e)
            {
                errors.Add($"{source}: '{url}' is not a URL to listen on: {e.Message}");
                continue;
            }

            if (!string.Equals(address.Scheme, "http", StringComparison.OrdinalIgnoreCase) || address.IsUnixPipe || address.IsNamedPipe)
            {
                errors.Add($"{source}: '{url}': only http://host:port addresses are served (TLS ends in front of the proxy)");
            }
            else if (address.Host is not ("*" or "+" or "") && !string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                && !IPAddress.TryParse(address.Host.Trim('[', ']'), out _))
            {
                errors.Add($"{source}: '{url}': the host must be an IP address, localhost, * or +");
            }
            else
            {
                parsed.Add(address);
            }
        }

        if (parsed.Count == 0 && errors.Count == 0)
        {
            errors.Add($"{source}: no address to listen on");
        }

        return parsed;
    }

    // A wildcard bind is reached on loopback.
    private static string Reachable(IPEndPoint endpoint) =>
        endpoint.Address.Equals(IPAddress.Any) ? $"127.0.0.1:{endpoint.Port}"
        : endpoint.Address.Equals(IPAddress.IPv6Any) ? $"[::1]:{endpoint.Port}"
        : endpoint.ToString();

    private static List<Uri> Addresses(List<ListenOptions> listeners) =>
        [.. listeners.Select(l => l.IPEndPoint is { } endpoint
            ? new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{Reachable(endpoint)}/"))
            : new Uri(l.ToString() ?? "http://localhost/"))];
}
