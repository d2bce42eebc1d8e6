using System.Text;
using System.Text.Json;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Upstream;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The files and processes of one end-to-end run: key ring and revocation volumes laid out as
/// the kubelet does, a routes file, a test upstream and the requests-proxy process.
/// </summary>
internal sealed class ProxyScenario : IAsyncDisposable
{
    public const string AdminToken = "e2e-admin-token";

    private readonly bool _stateless;
    private int _port;
    private readonly int _managementPort = FreePort();

    private ProxyScenario(bool stateless, TestUpstream upstream)
    {
        _stateless = stateless;
        Upstream = upstream;
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        Revoked = new ProjectedVolume(Folder.Combine("revoked"), new Dictionary<string, string> { ["revoked.json"] = "[]" });
        Directory.CreateDirectory(Folder.Combine("admin"));
        File.WriteAllText(Folder.Combine("admin", "token"), AdminToken + "\n");
        File.WriteAllText(Folder.Combine("routes.json"), JsonSerializer.Serialize(new
        {
            ReverseProxy = new
            {
                Routes = new Dictionary<string, object>
                {
                    ["results"] = new
                    {
                        ClusterId = "edge",
                        Match = new { Path = "/v1/jobs/{sub}/results" },
                        Metadata = new Dictionary<string, string> { ["RequiredScope"] = "results:write", ["SubjectParameter"] = "sub" },
                    },
                },
                Clusters = new Dictionary<string, object>
                {
                    ["edge"] = new { Destinations = new Dictionary<string, object> { ["d"] = new { Address = upstream.Address.ToString() } } },
                },
            },
        }));
    }

    public TempFolder Folder { get; } = new("rp-e2e");

    public KeyRingVolume Keys { get; }

    public ProjectedVolume Revoked { get; }

    public TestUpstream Upstream { get; }

    public ServiceProcess? Proxy { get; private set; }

    public Uri Address { get; private set; } = null!;

    /// <summary>The proxy's management port (/readyz, /metrics): the same on every start.</summary>
    public Uri ManagementAddress => new($"http://127.0.0.1:{_managementPort}/");

    public List<string> Log { get; } = [];

    public static async Task<ProxyScenario> CreateAsync(bool stateless) => new(stateless, await TestUpstream.StartAsync());

    /// <summary>Starts the proxy (on its first port again after a kill) and waits for /readyz; returns the time to ready.</summary>
    public async Task<TimeSpan> StartProxyAsync()
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_port}",
            ["REQUESTS_PROXY_MANAGEMENT_URLS"] = $"http://127.0.0.1:{_managementPort}",
            ["REQUESTS_PROXY_STATELESS"] = _stateless ? "true" : "false",
            ["REQUESTS_PROXY_KEYS_DIR"] = Keys.Path,
            ["REQUESTS_PROXY_REVOKED_DIR"] = Revoked.Path,
            ["REQUESTS_PROXY_KEYS_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_REVOKED_POLL_SECONDS"] = "1",
            ["REQUESTS_PROXY_ROUTES_FILE"] = Folder.Combine("routes.json"),
            ["REQUESTS_PROXY_ADMIN_TOKEN_FILE"] = Folder.Combine("admin", "token"),
            ["RELEASE_NAME"] = "e2e",
            ["NAMESPACE"] = "test",
        };
        var started = System.Diagnostics.Stopwatch.StartNew();
        Proxy = ServiceProcess.Start(ServiceProcess.FindAssembly("requests-proxy"), environment);
        Address = await Proxy.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        _port = Address.Port;
        await Proxy.WaitForOkAsync(new Uri(ManagementAddress, "/readyz"), TimeSpan.FromSeconds(30));
        return started.Elapsed;
    }

    public void KillProxy()
    {
        if (Proxy is { } proxy)
        {
            proxy.Kill();
            Log.AddRange(proxy.OutputLines);
        }
    }

    public string Mint(string subject)
    {
        using var source = new KeyRingSource(Keys.Path, TimeSpan.FromHours(1), TimeProvider.System);
        source.Reload();
        return new TokenIssuer(source, TimeProvider.System).Mint(new TokenRequest(subject) { Lifetime = TimeSpan.FromMinutes(10) }).Token;
    }

    /// <summary>A token signed with a kid that is in the folder but not active (as before a promotion).</summary>
    public string SignWith(string kid, string subject)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "HS256", typ = "JWT", kid }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = TokenDefaults.Issuer, aud = TokenDefaults.Audience, sub = subject, jti = Guid.NewGuid().ToString("N"),
            iat = now, nbf = now, exp = now + 600, scope = TokenDefaults.Scope,
        }));
        var signature = System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(Keys.Files[kid].Trim()), Encoding.ASCII.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64Url(signature);
    }

    public static string JtiOf(string token) =>
        JsonDocument.Parse(Convert.FromBase64String(Pad(token.Split('.')[1]))).RootElement.GetProperty("jti").GetString()!;

    public void Revoke(string subject, params string[] jtis)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var list = RevocationList.Empty.Add(jtis.Select(j => new RevocationEntry(j, exp, subject)));
        Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = Encoding.UTF8.GetString(list.Serialize()) });
    }

    public async Task RegisterLegacyAsync(string token, string subject)
    {
        using var client = new HttpClient { BaseAddress = Address };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { token, sub = subject, scope = TokenDefaults.Scope }), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + AdminToken);
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }

        await Upstream.DisposeAsync();
        Folder.Dispose();
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Pad(string segment)
    {
        var s = segment.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
