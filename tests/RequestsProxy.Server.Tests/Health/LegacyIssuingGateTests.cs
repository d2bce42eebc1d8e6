using System.Net;
using System.Text;
using RequestsProxy.Server.Tests.Authentication;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Tests.Health;

/// <summary>
/// Issue 15 C3: a stateless proxy is not ready until its copy of the legacy token ConfigMap says
/// <c>issuing: closed</c> — every state of the two-phase flip, on a real proxy whose list folder is
/// swapped the way the kubelet swaps a ConfigMap volume.
/// </summary>
public sealed class LegacyIssuingGateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private const string Token = "bGVnYWN5LXRva2VuLW9mLWEtam9iLXN0YXJ0ZWQtbGF0ZQ";

    private static Dictionary<string, string> Volume(string? issuing, params LegacyTokenEntry[] entries)
    {
        var files = new Dictionary<string, string> { [LegacyTokenList.FileName] = Encoding.UTF8.GetString(new LegacyTokenList(entries).Serialize()) };
        if (issuing is not null)
        {
            files[LegacyIssuer.FileName] = issuing + "\n";
        }

        return files;
    }

    private static LegacyTokenEntry Entry() => new(LegacyTokenDigest.Compute(Token), "job-late", "results:write flops:write");

    private static async Task<(HttpStatusCode Status, string Body)> ReadyzAsync(ProxyHarness proxy)
    {
        using var readyz = await proxy.Management.GetAsync("/readyz");
        return (readyz.StatusCode, await readyz.Content.ReadAsStringAsync());
    }

    private static Task<bool> ReadyEventuallyAsync(ProxyHarness proxy) =>
        ProxyAuthenticationTests.EventuallyAsync(async () => (await ReadyzAsync(proxy)).Status == HttpStatusCode.OK, Bound);

    /// <summary>A new proxy process on the harness's folders with its current settings (a pod restart).</summary>
    private static async Task<ProxyHarness> StartOnAsync(Dictionary<string, string> volume, bool stateless = true)
    {
        var proxy = await ProxyHarness.StartAsync(s =>
        {
            s[EnvironmentVariables.LegacyTokensRequired] = "true";
            s[EnvironmentVariables.Stateless] = stateless ? "true" : "false";
        });
        proxy.LegacyTokens.Write(volume);
        await proxy.RestartAsync(Settings(proxy, stateless));
        return proxy;
    }

    private static Dictionary<string, string?> Settings(ProxyHarness proxy, bool stateless = true) => new()
    {
        [EnvironmentVariables.Stateless] = stateless ? "true" : "false",
        [EnvironmentVariables.KeysDirectory] = proxy.Keys.Path,
        [EnvironmentVariables.RevokedDirectory] = proxy.Revoked.Path,
        [EnvironmentVariables.RevokedPollSeconds] = "1",
        [EnvironmentVariables.LegacyTokensDirectory] = proxy.LegacyTokens.Path,
        [EnvironmentVariables.LegacyTokensPollSeconds] = "1",
        [EnvironmentVariables.LegacyTokensRequired] = "true",
        [EnvironmentVariables.AdminTokenFile] = proxy.AdminTokenFile,
        [EnvironmentVariables.Upstream] = proxy.Upstream.Address.ToString(),
        [EnvironmentVariables.ManagementUrls] = Testing.Hosting.LoopbackApp.AnyPort,
        [EnvironmentVariables.RoutesFile] = null,
    };

    [Fact]
    public async Task LegacyJobsManagerRunning_MarkerOpaque_NotReady_ThenClosedWithTheLateEntry_ReadyAndTheTokenAccepted()
    {
        // The race of C3: a legacy jobs-manager listed job-late after this pod's copy was taken. The copy says opaque.
        await using var proxy = await StartOnAsync(Volume("opaque"));

        var (status, body) = await ReadyzAsync(proxy);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("issuing: opaque", body, StringComparison.Ordinal);

        // The stateless jobs-manager (after the legacy one is gone) writes closed; the kubelet delivers both keys at once.
        proxy.LegacyTokens.Write(Volume("closed", Entry()));

        Assert.True(await ReadyEventuallyAsync(proxy));
        using var accepted = await proxy.PostAsync("/v1/results", Token);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task StatelessJobsManager_MarkerClosed_ReadyAtOnce()
    {
        await using var proxy = await StartOnAsync(Volume("closed", Entry()));

        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(proxy)).Status);
    }

    [Fact]
    public async Task MarkerMissingBesideAList_CountsAsOpaque_NotReady()
    {
        // A list written by a jobs-manager older than the marker: it may be a legacy one still issuing.
        await using var proxy = await StartOnAsync(Volume(null, Entry()));

        var (status, body) = await ReadyzAsync(proxy);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("no issuing marker", body, StringComparison.Ordinal);

        proxy.LegacyTokens.Write(Volume("closed", Entry()));
        Assert.True(await ReadyEventuallyAsync(proxy));
    }

    [Fact]
    public async Task MarkerNotAWord_NotReady_NamingIt()
    {
        await using var proxy = await StartOnAsync(Volume("shut"));

        var (status, body) = await ReadyzAsync(proxy);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("says 'shut'", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlipBack_MarkerBackToOpaque_AReadyStatelessPodStaysReady_ARestartedOneWaits()
    {
        await using var proxy = await StartOnAsync(Volume("closed", Entry()));
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(proxy)).Status);

        // The legacy jobs-manager of a flip back writes opaque: the pods already serving keep serving.
        proxy.LegacyTokens.Write(Volume("opaque", Entry()));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(proxy)).Status);
        using (var accepted = await proxy.PostAsync("/v1/results", Token))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        // A stateless pod restarting mid-flip-back takes no traffic (its copy may miss what the legacy jobs-manager lists).
        await proxy.RestartAsync(Settings(proxy));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await ReadyzAsync(proxy)).Status);
    }

    [Fact]
    public async Task LegacyProxy_IgnoresTheMarker()
    {
        await using var proxy = await StartOnAsync(Volume("opaque", Entry()), stateless: false);

        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(proxy)).Status);
    }

    [Fact]
    public async Task NoListAtAllAndNoneRequired_Ready()
    {
        // A laptop: no legacy token list anywhere, so no legacy jobs-manager wrote one.
        await using var proxy = await ProxyHarness.StartAsync();
        proxy.LegacyTokens.Write(new Dictionary<string, string>());
        var settings = Settings(proxy);
        settings[EnvironmentVariables.LegacyTokensRequired] = "false";
        await proxy.RestartAsync(settings);

        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(proxy)).Status);
    }
}
