using RequestsProxy.Settings;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// The sets of listening addresses: pod-facing (<c>--urls</c> / <c>ASPNETCORE_URLS</c> /
/// <c>ASPNETCORE_HTTP_PORTS</c>, default <c>http://0.0.0.0:8888</c>), management
/// (<c>REQUESTS_PROXY_MANAGEMENT_URLS</c>, default <c>http://0.0.0.0:9090</c>) and, when set, the
/// Secret admission webhook's (<c>REQUESTS_PROXY_ADMISSION_URLS</c>, https). Kestrel is given
/// them as explicit endpoints so management and admission connections can be told apart (a
/// connection feature, not the client-chosen Host header).
/// </summary>
internal sealed class ProxyListeners
{
    private readonly List<ListenOptions> _pods = [];
    private readonly List<ListenOptions> _management = [];
    private readonly List<ListenOptions> _admission = [];

    private ProxyListeners(IReadOnlyList<BindingAddress> pods, IReadOnlyList<BindingAddress> management, IReadOnlyList<BindingAddress> admission)
    {
        PodUrls = pods;
        ManagementUrls = management;
        AdmissionUrls = admission;
    }

    public IReadOnlyList<BindingAddress> PodUrls { get; }

    public IReadOnlyList<BindingAddress> ManagementUrls { get; }

    /// <summary>The admission webhook's https addresses; empty when it is not served.</summary>
    public IReadOnlyList<BindingAddress> AdmissionUrls { get; }

    /// <summary>Bound pod-facing addresses (real ports once the server has started).</summary>
    public IReadOnlyList<Uri> PodAddresses => Addresses(_pods);

    /// <summary>Bound management addresses (real ports once the server has started).</summary>
    public IReadOnlyList<Uri> ManagementAddresses => Addresses(_management);

    /// <summary>Bound admission addresses (https; real ports once the server has started).</summary>
    public IReadOnlyList<Uri> AdmissionAddresses => Addresses(_admission, "https");

    /// <param name="admissionUrls">The admission webhook's addresses (https), or null when it is not served.</param>
    /// <exception cref="InvalidSettingsException">An address cannot be listened on, or two sets share a port.</exception>
    public static ProxyListeners Parse(string podUrls, string podSource, string managementUrls, string? admissionUrls = null)
    {
        var errors = new List<string>();
        var pods = ParseUrls(podUrls, podSource, errors);
        var management = ParseUrls(managementUrls, EnvironmentVariables.ManagementUrls, errors);
        var admission = admissionUrls is null ? [] : ParseUrls(admissionUrls, EnvironmentVariables.AdmissionUrls, errors, "https");
        foreach (var shared in pods.Select(p => p.Port).Intersect(management.Select(m => m.Port)).Where(p => p != 0))
        {
            errors.Add($"{EnvironmentVariables.ManagementUrls}: port {shared} is also a pod-facing port; management must have a port of its own");
        }

        foreach (var shared in admission.Select(a => a.Port).Intersect(pods.Concat(management).Select(p => p.Port)).Where(p => p != 0))
        {
            errors.Add($"{EnvironmentVariables.AdmissionUrls}: port {shared} is also a pod-facing or management port; the webhook must have a port of its own");
        }

        if (errors.Count > 0)
        {
            throw new InvalidSettingsException(errors);
        }

        return new ProxyListeners(pods, management, admission);
    }

    /// <param name="perClient">The per-client cap of the pod-facing addresses, or null for none.</param>
    /// <param name="admissionCertificate">The admission webhook's serving certificate in force (null: none loaded, the handshake fails).</param>
    /// <param name="admissionPerClient">The per-client cap of the admission addresses (its own count), or null for none.</param>
    public void Configure(KestrelServerOptions kestrel, ClientConnectionLimit? perClient = null, Func<X509Certificate2?>? admissionCertificate = null,
        ClientConnectionLimit? admissionPerClient = null)
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

        foreach (var address in AdmissionUrls)
        {
            var certificate = admissionCertificate ?? throw new InvalidOperationException("admission addresses need a certificate source");
            Listen(kestrel, address, options =>
            {
                // Before TLS: a client that never finishes its handshake holds one of its own connections, nobody else's.
                if (admissionPerClient is not null)
                {
                    options.Use(admissionPerClient.Middleware);
                }

                // Picked per handshake, so a renewed certificate in the mounted Secret is served without a restart.
                options.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificateSelector = (_, _) => certificate() });
                options.Use(next => connection =>
                {
                    connection.Features.Set(AdmissionConnection.Instance);
                    return next(connection);
                });
                _admission.Add(options);
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

    private static List<BindingAddress> ParseUrls(string urls, string source, List<string> errors, string scheme = "http")
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

            if (!string.Equals(address.Scheme, scheme, StringComparison.OrdinalIgnoreCase) || address.IsUnixPipe || address.IsNamedPipe)
            {
                errors.Add(scheme == "http"
                    ? $"{source}: '{url}': only http://host:port addresses are served (TLS ends in front of the proxy)"
                    : $"{source}: '{url}': only https://host:port addresses are served (the apiserver calls admission webhooks over TLS)");
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

    private static List<Uri> Addresses(List<ListenOptions> listeners, string scheme = "http") =>
        [.. listeners.Select(l => l.IPEndPoint is { } endpoint
            ? new Uri(string.Create(CultureInfo.InvariantCulture, $"{scheme}://{Reachable(endpoint)}/"))
            : new Uri(l.ToString() ?? "http://localhost/"))];
}
