using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Upstream;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The real requests-proxy process with one catch-all upstream, a key ring and an (initially empty) revocation
/// folder in its own temp folder: for tests that need only the process and its output.
/// </summary>
internal sealed class StandaloneProxy : IAsyncDisposable
{
    private StandaloneProxy(TempFolder folder, KeyRingVolume keys, TestUpstream upstream, ServiceProcess process, Uri address, Uri management)
    {
        ManagementAddress = management;
        Folder = folder;
        Keys = keys;
        Upstream = upstream;
        Process = process;
        Address = address;
    }

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public TestUpstream Upstream { get; }

    public ServiceProcess Process { get; }

    /// <summary>The pod-facing port: relayed routes only.</summary>
    public Uri Address { get; }

    /// <summary>The management port: /healthz, /readyz, /metrics.</summary>
    public Uri ManagementAddress { get; }

    /// <summary>Starts it and waits for /readyz; <paramref name="environment"/> adds to (or, with null, removes from) the defaults.</summary>
    public static async Task<StandaloneProxy> StartAsync(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var folder = new TempFolder("rp-standalone");
        var keys = new KeyRingVolume(folder.Combine("keys"));
        Directory.CreateDirectory(folder.Combine("revoked"));
        var upstream = await TestUpstream.StartAsync();
        var address = new Uri($"http://127.0.0.1:{ProxyScenario.FreePort()}/");
        var management = new Uri($"http://127.0.0.1:{ProxyScenario.FreePort()}/");
        var values = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = address.GetLeftPart(UriPartial.Authority),
            ["REQUESTS_PROXY_MANAGEMENT_URLS"] = management.GetLeftPart(UriPartial.Authority),
            ["REQUESTS_PROXY_STATELESS"] = "true",
            ["REQUESTS_PROXY_KEYS_DIR"] = keys.Path,
            ["REQUESTS_PROXY_REVOKED_DIR"] = folder.Combine("revoked"),
            ["REQUESTS_PROXY_KEYS_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_REVOKED_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_UPSTREAM"] = upstream.Address.ToString(),
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            values[name] = value;
        }

        var process = ServiceProcess.Start(ServiceProcess.FindAssembly("requests-proxy"), values);
        await process.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        await process.WaitForOkAsync(new Uri(management, "/readyz"), TimeSpan.FromSeconds(30));
        return new StandaloneProxy(folder, keys, upstream, process, address, management);
    }

    public string Mint(string subject)
    {
        using var source = new RequestsProxy.Tokens.Keys.KeyRingSource(Keys.Path, TimeSpan.FromHours(1), TimeProvider.System);
        source.Reload();
        return new RequestsProxy.Tokens.Jwt.TokenIssuer(source, TimeProvider.System).Mint(new RequestsProxy.Tokens.Jwt.TokenRequest(subject) { Lifetime = TimeSpan.FromMinutes(10) }).Token;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        await Upstream.DisposeAsync();
        Folder.Dispose();
    }
}
