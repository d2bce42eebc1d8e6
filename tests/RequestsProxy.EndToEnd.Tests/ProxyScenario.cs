using System.Text;
using System.Text.Json;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Upstream;
using RequestsProxy.Tokens.Jwt;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// One end-to-end run: the real proxy process (<see cref="ProxyProcess"/>: kubelet-style volumes,
/// the results route, a test upstream, the same ports on every start) plus what the scenarios add —
/// tokens signed with a chosen kid, legacy registration, the output of killed processes.
/// </summary>
internal sealed class ProxyScenario : IAsyncDisposable
{
    public const string AdminToken = ProxyProcess.AdminToken;

    private readonly ProxyProcess _proxy;

    private ProxyScenario(ProxyProcess proxy) => _proxy = proxy;

    public TempFolder Folder => _proxy.Folder;

    public KeyRingVolume Keys => _proxy.Keys;

    public ProjectedVolume Revoked => _proxy.Revoked;

    public TestUpstream Upstream => _proxy.Upstream;

    public ServiceProcess? Proxy => _proxy.IsStarted ? _proxy.Process : null;

    public Uri Address => _proxy.Address;

    /// <summary>The proxy's management port (/readyz, /metrics): the same on every start.</summary>
    public Uri ManagementAddress => _proxy.Management;

    /// <summary>The output of every proxy process killed so far.</summary>
    public List<string> Log => _proxy.KilledOutput;

    public static async Task<ProxyScenario> CreateAsync(bool stateless) =>
        new(await ProxyProcess.CreateAsync(new ProxyProcessOptions { Stateless = stateless, FolderPrefix = "rp-e2e" }));

    /// <summary>Starts the proxy (on its first port again after a kill) and waits for /readyz; returns the time to ready.</summary>
    public Task<TimeSpan> StartProxyAsync() => _proxy.StartAsync();

    public void KillProxy() => _proxy.Kill();

    public string Mint(string subject) => _proxy.Mint(subject);

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

    public void Revoke(string subject, params string[] jtis) => _proxy.Revoke(subject, jtis);

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

    public ValueTask DisposeAsync() => _proxy.DisposeAsync();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Pad(string segment)
    {
        var s = segment.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }

    internal static int FreePort() => ProxyProcess.FreePort();
}
