using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Hosting;
using RequestsProxy.Testing.Upstream;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Server.Tests;

/// <summary>
/// One proxy on 127.0.0.1 port 0 in-process (real Kestrel), with its own key ring volume,
/// revocation volume, credential file and test upstream.
/// </summary>
internal sealed class ProxyHarness : IAsyncDisposable
{
    public const string Credential = "edge-credential-123";

    private LoopbackApp _host = null!;
    private Action<WebApplicationBuilder>? _configure;

    private ProxyHarness(TempFolder folder, KeyRingVolume keys, ProjectedVolume revoked, ProjectedVolume legacyTokens, TestUpstream upstream)
    {
        LegacyTokens = legacyTokens;
        Folder = folder;
        Keys = keys;
        Revoked = revoked;
        Upstream = upstream;
    }

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public ProjectedVolume Revoked { get; }

    /// <summary>The mounted legacy token list (<c>legacy-tokens.json</c>), first <c>[]</c>, with <c>issuing: closed</c>.</summary>
    public ProjectedVolume LegacyTokens { get; }

    public TestUpstream Upstream { get; }

    public WebApplication App => _host.App;

    /// <summary>The pod-facing port: routes only.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The management port: <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>.</summary>
    public HttpClient Management { get; private set; } = null!;

    public Uri Address => Client.BaseAddress!;

    public Uri ManagementAddress => Management.BaseAddress!;

    public string CredentialFile => Folder.Combine("upstream", "credential");

    public string AdminTokenFile => Folder.Combine("admin", "token");

    /// <param name="settings">Environment-contract settings on top of the harness defaults (null removes one).</param>
    /// <param name="routes">When given, a routes file with these routes (all to the test upstream).</param>
    /// <param name="revokedJson">The revocation list at start; null: no <c>revoked.json</c> at all.</param>
    /// <param name="builder">More set-up of the app's builder (e.g. a log collector).</param>
    public static async Task<ProxyHarness> StartAsync(
        Action<Dictionary<string, string?>>? settings = null,
        Func<ProxyHarness, object>? routes = null,
        bool writeKeys = true,
        string? revokedJson = "[]",
        Action<WebApplicationBuilder>? builder = null)
    {
        var folder = new TempFolder("rp-proxy");
        var keys = new KeyRingVolume(folder.Combine("keys"));
        if (!writeKeys)
        {
            keys.WriteRaw(new Dictionary<string, string>());
        }

        var revoked = new ProjectedVolume(folder.Combine("revoked"), revokedJson is null ? [] : new Dictionary<string, string> { ["revoked.json"] = revokedJson });
        // As a stateless jobs-manager leaves the ConfigMap: no legacy jobs-manager can add to it (issue 15 C3).
        var legacyTokens = new ProjectedVolume(folder.Combine("legacy-tokens"), new Dictionary<string, string> { ["legacy-tokens.json"] = "[]", ["issuing"] = "closed\n" });
        var upstream = await TestUpstream.StartAsync();
        var harness = new ProxyHarness(folder, keys, revoked, legacyTokens, upstream);
        Directory.CreateDirectory(folder.Combine("upstream"));
        await File.WriteAllTextAsync(harness.CredentialFile, Credential + "\n");
        Directory.CreateDirectory(folder.Combine("admin"));
        await File.WriteAllTextAsync(harness.AdminTokenFile, "admin-secret\n");

        var values = new Dictionary<string, string?>
        {
            [EnvironmentVariables.KeysDirectory] = keys.Path,
            [EnvironmentVariables.RevokedDirectory] = revoked.Path,
            [EnvironmentVariables.KeysPollSeconds] = "1",
            [EnvironmentVariables.RevokedPollSeconds] = "1",
            [EnvironmentVariables.LegacyTokensDirectory] = legacyTokens.Path,
            [EnvironmentVariables.LegacyTokensPollSeconds] = "1",
            [EnvironmentVariables.Upstream] = upstream.Address.ToString(),
            [EnvironmentVariables.UpstreamCredentialFile] = harness.CredentialFile,
            [EnvironmentVariables.AdminTokenFile] = harness.AdminTokenFile,
            [EnvironmentVariables.ReleaseName] = "rel",
            [EnvironmentVariables.Namespace] = "ns",
            [EnvironmentVariables.ManagementUrls] = LoopbackApp.AnyPort,
            // Never pick up a routes file of the machine running the tests.
            [EnvironmentVariables.RoutesFile] = null,
        };
        if (routes is not null)
        {
            var path = folder.Combine("routes.json");
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { ReverseProxy = routes(harness) }));
            values[EnvironmentVariables.RoutesFile] = path;
        }

        settings?.Invoke(values);
        harness._configure = builder;
        await harness.StartProxyAsync(values);
        return harness;
    }

    /// <summary>A cluster named "upstream" pointing at the test upstream, for routes files.</summary>
    public object UpstreamCluster() => new Dictionary<string, object>
    {
        ["upstream"] = new { Destinations = new Dictionary<string, object> { ["d1"] = new { Address = Upstream.Address.ToString() } } },
    };

    public static WebApplication BuildProxy(Dictionary<string, string?> values, Action<WebApplicationBuilder>? configure = null) =>
        ProxyApp.Build([], builder =>
        {
            configure?.Invoke(builder);
            builder.Configuration.AddInMemoryCollection(values.Where(v => v.Value is not null));
            builder.WebHost.UseUrls(LoopbackApp.AnyPort);
            if (!values.ContainsKey(EnvironmentVariables.ManagementUrls))
            {
                builder.Configuration[EnvironmentVariables.ManagementUrls] = LoopbackApp.AnyPort;
            }
        });

    /// <summary>A new proxy process-equivalent on the same folders: what a restart does.</summary>
    public async Task RestartAsync(Dictionary<string, string?> values)
    {
        Client.Dispose();
        Management.Dispose();
        await _host.DisposeAsync();
        await StartProxyAsync(values);
    }

    public string Mint(string sub, string scope = TokenDefaults.Scope, TimeSpan? lifetime = null, string? audience = null, string? issuer = null)
    {
        using var source = new KeyRingSource(Keys.Path, TimeSpan.FromHours(1), TimeProvider.System);
        source.Reload();
        var request = new TokenRequest(sub)
        {
            Scope = scope,
            Lifetime = lifetime ?? TimeSpan.FromHours(1),
            Audience = audience ?? TokenDefaults.Audience,
            Issuer = issuer ?? TokenDefaults.Issuer,
        };
        return new TokenIssuer(source, TimeProvider.System).Mint(request).Token;
    }

    /// <summary>A token built by hand (any header and payload), signed with the ring's key of that kid or the given key.</summary>
    public string Forge(object header, object payload, string? kid = null, byte[]? key = null)
    {
        var h = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header));
        var p = Base64Url(JsonSerializer.SerializeToUtf8Bytes(payload));
        key ??= Encoding.UTF8.GetBytes(Keys.Files[kid ?? Keys.Active].Trim());
        var signature = System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(h + "." + p));
        return h + "." + p + "." + Base64Url(signature);
    }

    public static object Claims(string sub = "job-1", string jti = "jti-1", long? exp = null, long? nbf = null,
        string aud = TokenDefaults.Audience, string iss = TokenDefaults.Issuer, string scope = TokenDefaults.Scope)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>
        {
            ["iss"] = iss,
            ["aud"] = aud,
            ["sub"] = sub,
            ["jti"] = jti,
            ["iat"] = now,
            ["nbf"] = nbf ?? now,
            ["exp"] = exp ?? now + 3600,
            ["scope"] = scope,
        };
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return request;
    }

    public Task<HttpResponseMessage> PostAsync(string path, string? token, string body = "{\"epoch\":1}") =>
        Client.SendAsync(Request(HttpMethod.Post, path, token, body));

    public async Task<string> MetricsAsync() => await Management.GetStringAsync("/metrics");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Management.Dispose();
        await _host.DisposeAsync();
        await Upstream.DisposeAsync();
        Folder.Dispose();
    }

    private async Task StartProxyAsync(Dictionary<string, string?> values)
    {
        _host = await LoopbackApp.StartAsync(BuildProxy(values, _configure));
        // Pod-facing and management addresses, told apart by the proxy's own listener list.
        var listeners = _host.Services.GetRequiredService<ProxyListeners>();
        Client = new HttpClient { BaseAddress = listeners.PodAddresses[0] };
        Management = new HttpClient { BaseAddress = listeners.ManagementAddresses[0] };
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
