using System.Text.Json;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Upstream;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Client.Tests.Handler;

/// <summary>
/// The real requests-proxy process on a loopback port of its own (kept across a SIGKILL and
/// restart), with a kubelet-style key ring, an empty revocation list and one results route.
/// </summary>
internal sealed class ProxyProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _environment;

    private ProxyProcess(TestUpstream upstream, IReadOnlyDictionary<string, string>? routeMetadata, IReadOnlyDictionary<string, string?>? environment)
    {
        Upstream = upstream;
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        _ = new ProjectedVolume(Folder.Combine("revoked"), new Dictionary<string, string> { ["revoked.json"] = "[]" });
        var metadata = new Dictionary<string, string> { ["RequiredScope"] = "results:write", ["SubjectParameter"] = "sub" };
        foreach (var (k, v) in routeMetadata ?? new Dictionary<string, string>())
        {
            metadata[k] = v;
        }

        File.WriteAllText(Folder.Combine("routes.json"), JsonSerializer.Serialize(new
        {
            ReverseProxy = new
            {
                Routes = new Dictionary<string, object>
                {
                    ["results"] = new { ClusterId = "edge", Match = new { Path = "/v1/jobs/{sub}/results" }, Metadata = metadata },
                },
                Clusters = new Dictionary<string, object>
                {
                    ["edge"] = new { Destinations = new Dictionary<string, object> { ["d"] = new { Address = upstream.Address.ToString() } } },
                },
            },
        }));
        Address = new Uri($"http://127.0.0.1:{RequestsProxyHandlerTests.FreePort()}/");
        // /readyz and /metrics answer on the management port only.
        Management = new Uri($"http://127.0.0.1:{RequestsProxyHandlerTests.FreePort()}/");
        _environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = Address.ToString().TrimEnd('/'),
            ["REQUESTS_PROXY_MANAGEMENT_URLS"] = Management.ToString().TrimEnd('/'),
            ["REQUESTS_PROXY_STATELESS"] = "true",
            ["REQUESTS_PROXY_KEYS_DIR"] = Keys.Path,
            ["REQUESTS_PROXY_REVOKED_DIR"] = Folder.Combine("revoked"),
            ["REQUESTS_PROXY_KEYS_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_REVOKED_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_ROUTES_FILE"] = Folder.Combine("routes.json"),
            ["RELEASE_NAME"] = "client-tests",
            ["NAMESPACE"] = "test",
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            _environment[k] = v;
        }
    }

    public TempFolder Folder { get; } = new("rp-client-proxy");

    public KeyRingVolume Keys { get; }

    public TestUpstream Upstream { get; }

    public Uri Address { get; }

    public Uri Management { get; }

    public ServiceProcess? Process { get; private set; }

    public static async Task<ProxyProcess> StartAsync(IReadOnlyDictionary<string, string>? routeMetadata = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var proxy = new ProxyProcess(await TestUpstream.StartAsync(), routeMetadata, environment);
        await proxy.StartAsync();
        return proxy;
    }

    public async Task StartAsync()
    {
        Process = ServiceProcess.Start(ServiceProcess.FindAssembly("requests-proxy"), _environment);
        await Process.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        await Process.WaitForOkAsync(new Uri(Management, "/readyz"), TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill() => Process?.Kill();

    /// <summary>Writes a token for <paramref name="subject"/> to a token file of its own and returns the path.</summary>
    public string TokenFileFor(string subject)
    {
        using var source = new KeyRingSource(Keys.Path, TimeSpan.FromHours(1), TimeProvider.System);
        source.Reload();
        var token = new TokenIssuer(source, TimeProvider.System).Mint(new TokenRequest(subject) { Lifetime = TimeSpan.FromMinutes(30) }).Token;
        var path = Folder.Combine($"token-{subject}");
        File.WriteAllText(path, token + "\n");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }

        await Upstream.DisposeAsync();
        Folder.Dispose();
    }
}
