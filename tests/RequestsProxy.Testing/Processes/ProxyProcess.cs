using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Upstream;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Testing.Processes;

/// <summary>How <see cref="ProxyProcess"/> lays out its files and environment.</summary>
public sealed record ProxyProcessOptions
{
    /// <summary>No routes: every path relayed to the upstream, as with only <c>upstream.url</c> in the chart.</summary>
    public static ProxyProcessOptions CatchAll => new() { ResultsRoute = false };

    /// <summary><c>REQUESTS_PROXY_STATELESS</c>; legacy mode also gets an admin token file.</summary>
    public bool Stateless { get; init; } = true;

    /// <summary>
    /// True: one route, <c>/v1/jobs/{sub}/results</c>, bound to the token's sub and requiring
    /// <c>results:write</c> (plus <see cref="RouteMetadata"/>). False: no routes file, every path
    /// relayed to the upstream (<c>REQUESTS_PROXY_UPSTREAM</c>).
    /// </summary>
    public bool ResultsRoute { get; init; } = true;

    /// <summary>Metadata added to (or overriding) the results route's.</summary>
    public IReadOnlyDictionary<string, string>? RouteMetadata { get; init; }

    /// <summary>False: the revocation folder is empty (no <c>revoked.json</c> at all), as with a ConfigMap not created yet.</summary>
    public bool RevocationList { get; init; } = true;

    /// <summary>Added to (or, with a null value, removed from) the environment laid out here.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>The prefix of the temp folder's name (which test left a folder behind).</summary>
    public string FolderPrefix { get; init; } = "rp-proxy";
}

/// <summary>
/// The real requests-proxy process with its volumes laid out as the kubelet does (key ring,
/// revocation list, routes file, admin token), a test upstream, and the same two loopback ports on
/// every start, so a SIGKILL and restart is what a pod replacement is to a client holding the address.
/// </summary>
public sealed class ProxyProcess : IAsyncDisposable
{
    public const string AdminToken = "proxy-process-admin-token";

    private readonly Dictionary<string, string?> _environment;
    private ServiceProcess? _process;

    private ProxyProcess(TestUpstream upstream, ProxyProcessOptions options)
    {
        Upstream = upstream;
        Folder = new TempFolder(options.FolderPrefix);
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        var revoked = Folder.Combine("revoked");
        Revoked = new ProjectedVolume(revoked, options.RevocationList ? new Dictionary<string, string> { ["revoked.json"] = "[]" } : new Dictionary<string, string>());
        Address = new Uri($"http://127.0.0.1:{FreePort()}/");
        Management = new Uri($"http://127.0.0.1:{FreePort()}/");
        _environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = Address.GetLeftPart(UriPartial.Authority),
            ["REQUESTS_PROXY_MANAGEMENT_URLS"] = Management.GetLeftPart(UriPartial.Authority),
            ["REQUESTS_PROXY_STATELESS"] = options.Stateless ? "true" : "false",
            ["REQUESTS_PROXY_KEYS_DIR"] = Keys.Path,
            ["REQUESTS_PROXY_REVOKED_DIR"] = revoked,
            ["REQUESTS_PROXY_KEYS_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_REVOKED_POLL_SECONDS"] = "1",
        };
        if (options.ResultsRoute)
        {
            WriteResultsRoute(options.RouteMetadata);
            _environment["REQUESTS_PROXY_ROUTES_FILE"] = Folder.Combine("routes.json");
            _environment["RELEASE_NAME"] = "proxy-process";
            _environment["NAMESPACE"] = "test";
        }
        else
        {
            _environment["REQUESTS_PROXY_UPSTREAM"] = upstream.Address.ToString();
        }

        if (!options.Stateless)
        {
            Directory.CreateDirectory(Folder.Combine("admin"));
            File.WriteAllText(Folder.Combine("admin", "token"), AdminToken + "\n");
            _environment["REQUESTS_PROXY_ADMIN_TOKEN_FILE"] = Folder.Combine("admin", "token");
        }

        foreach (var (name, value) in options.Environment ?? new Dictionary<string, string?>())
        {
            _environment[name] = value;
        }
    }

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public ProjectedVolume Revoked { get; }

    public TestUpstream Upstream { get; }

    /// <summary>The pod-facing port: relayed routes only. The same on every start.</summary>
    public Uri Address { get; }

    /// <summary>The management port: /healthz, /readyz, /metrics. The same on every start.</summary>
    public Uri Management { get; }

    /// <summary>The running (or last killed) process.</summary>
    public ServiceProcess Process => _process ?? throw new InvalidOperationException("the proxy has not been started");

    public bool IsStarted => _process is not null;

    /// <summary>The lines of every process killed so far (a restart starts a new log).</summary>
    public List<string> KilledOutput { get; } = [];

    /// <summary>Lays out the files, starts the upstream, starts the proxy and waits for /readyz.</summary>
    public static async Task<ProxyProcess> StartAsync(ProxyProcessOptions? options = null)
    {
        var proxy = await CreateAsync(options);
        await proxy.StartAsync();
        return proxy;
    }

    /// <summary>Lays out the files and starts the upstream; the proxy is not started yet.</summary>
    public static async Task<ProxyProcess> CreateAsync(ProxyProcessOptions? options = null) =>
        new(await TestUpstream.StartAsync(), options ?? new ProxyProcessOptions());

    /// <summary>Starts the proxy (again, after a kill) and waits for /readyz; returns the time to ready.</summary>
    public async Task<TimeSpan> StartAsync()
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        _process = ServiceProcess.Start(ServiceProcess.FindAssembly("requests-proxy"), _environment);
        await _process.WaitForListeningAsync(TimeSpan.FromSeconds(60));
        await _process.WaitForOkAsync(new Uri(Management, "/readyz"), TimeSpan.FromSeconds(60));
        return started.Elapsed;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            process.Kill();
            KilledOutput.AddRange(process.OutputLines);
        }
    }

    /// <summary>A token for <paramref name="subject"/> from the active key of the ring.</summary>
    public string Mint(string subject, TimeSpan? lifetime = null)
    {
        using var source = new KeyRingSource(Keys.Path, TimeSpan.FromHours(1), TimeProvider.System);
        source.Reload();
        return new TokenIssuer(source, TimeProvider.System).Mint(new TokenRequest(subject) { Lifetime = lifetime ?? TimeSpan.FromMinutes(10) }).Token;
    }

    /// <summary>Writes a token for <paramref name="subject"/> to a token file of its own, as the kubelet would, and returns the path.</summary>
    public string TokenFileFor(string subject)
    {
        var path = Folder.Combine($"token-{subject}");
        File.WriteAllText(path, Mint(subject, TimeSpan.FromMinutes(30)) + "\n");
        return path;
    }

    /// <summary>Replaces the revocation list with these jtis of <paramref name="subject"/> (atomically, as the kubelet swaps a volume).</summary>
    public void Revoke(string subject, params string[] jtis)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var list = RevocationList.Empty.Add(jtis.Select(j => new RevocationEntry(j, exp, subject)));
        Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = Encoding.UTF8.GetString(list.Serialize()) });
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        await Upstream.DisposeAsync();
        Folder.Dispose();
    }

    /// <summary>A loopback port free right now (a test that needs an address before its server starts).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void WriteResultsRoute(IReadOnlyDictionary<string, string>? extra)
    {
        var metadata = new Dictionary<string, string> { ["RequiredScope"] = "results:write", ["SubjectParameter"] = "sub" };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            metadata[key] = value;
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
                    ["edge"] = new { Destinations = new Dictionary<string, object> { ["d"] = new { Address = Upstream.Address.ToString() } } },
                },
            },
        }));
    }
}
