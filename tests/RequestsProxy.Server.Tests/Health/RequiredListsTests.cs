using System.Net;
using RequestsProxy.Server.Tests.Authentication;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Tests.Health;

/// <summary>
/// The chart mounts the revocation shards and the legacy list <c>optional</c> (the jobs-manager
/// creates their ConfigMaps), so an empty folder may mean "not created or not synced yet": with
/// the required settings the proxy fails closed instead of starting onto an empty list.
/// </summary>
public sealed class RequiredListsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Readyz_RequiredShardNotMountedYet_503UntilItIs_ThenItsRevocationBites()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s[EnvironmentVariables.RevokedShards] = "2");
        var revoked = Token(proxy, "jti-in-shard-1");

        using (var readyz = await proxy.Management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
            Assert.Contains("revoked-1.json", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var refused = await proxy.PostAsync("/v1/results", revoked))
        {
            // Not a 200: with the shard unread, this revoked token would be accepted.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        proxy.Revoked.Write(new Dictionary<string, string>
        {
            ["revoked.json"] = "[]",
            ["revoked-1.json"] = "[\"jti-in-shard-1\"]",
        });
        Assert.True(await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var readyz = await proxy.Management.GetAsync("/readyz");
            return readyz.StatusCode == HttpStatusCode.OK;
        }, Bound));

        using var stillRefused = await proxy.PostAsync("/v1/results", revoked);
        using var accepted = await proxy.PostAsync("/v1/results", Token(proxy, "jti-live"));
        Assert.Equal(HttpStatusCode.Unauthorized, stillRefused.StatusCode);
        Assert.Contains("revoked", stillRefused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Request_RequiredShardVanishesAfterLoad_ItsRevokedTokenStaysRefused()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s[EnvironmentVariables.RevokedShards] = "2", revokedJson: null);
        proxy.Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = "[]", ["revoked-1.json"] = "[\"jti-gone\"]" });
        Assert.True(await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var readyz = await proxy.Management.GetAsync("/readyz");
            return readyz.StatusCode == HttpStatusCode.OK;
        }, Bound));

        // Its ConfigMap deleted by hand: the kubelet empties that part of the optional volume.
        proxy.Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"jti-other\"]" });
        Assert.True(await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var other = await proxy.PostAsync("/v1/results", Token(proxy, "jti-other"));
            return other.StatusCode == HttpStatusCode.Unauthorized;
        }, Bound));

        using var refused = await proxy.PostAsync("/v1/results", Token(proxy, "jti-gone"));
        using var readyzAfter = await proxy.Management.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyzAfter.StatusCode);
        using var metrics = await proxy.Management.GetAsync("/metrics");
        Assert.Matches(@"(?m)^requests_proxy_revocations_files_missing\{[^}]*\} 1$", await metrics.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_RequiredLegacyListNotMountedYet_503UntilItIs()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s[EnvironmentVariables.LegacyTokensRequired] = "true");
        proxy.LegacyTokens.Write(new Dictionary<string, string>());
        await proxy.RestartAsync(Settings(proxy, required: true));

        using (var readyz = await proxy.Management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
            Assert.Contains("legacy-tokens.json", await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        proxy.LegacyTokens.Write(new Dictionary<string, string> { ["legacy-tokens.json"] = "[]", ["issuing"] = "closed\n" });
        Assert.True(await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var readyz = await proxy.Management.GetAsync("/readyz");
            return readyz.StatusCode == HttpStatusCode.OK;
        }, Bound));
    }

    [Fact]
    public async Task Readyz_NotRequired_EmptyFoldersAreTheEmptyLists()
    {
        // The local demo and a laptop: no revocation or legacy file yet is nothing revoked or listed.
        await using var proxy = await ProxyHarness.StartAsync(revokedJson: null);
        proxy.LegacyTokens.Write(new Dictionary<string, string>());
        await proxy.RestartAsync(Settings(proxy, required: false));

        using var readyz = await proxy.Management.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
    }

    private static Dictionary<string, string?> Settings(ProxyHarness proxy, bool required) => new()
    {
        [EnvironmentVariables.KeysDirectory] = proxy.Keys.Path,
        [EnvironmentVariables.RevokedDirectory] = proxy.Revoked.Path,
        [EnvironmentVariables.RevokedPollSeconds] = "1",
        [EnvironmentVariables.LegacyTokensDirectory] = proxy.LegacyTokens.Path,
        [EnvironmentVariables.LegacyTokensPollSeconds] = "1",
        [EnvironmentVariables.LegacyTokensRequired] = required ? "true" : "false",
        [EnvironmentVariables.Upstream] = proxy.Upstream.Address.ToString(),
        [EnvironmentVariables.ManagementUrls] = Testing.Hosting.LoopbackApp.AnyPort,
        [EnvironmentVariables.RoutesFile] = null,
    };

    private static string Token(ProxyHarness proxy, string jti) =>
        proxy.Forge(new { alg = "HS256", typ = "JWT", kid = proxy.Keys.Active }, ProxyHarness.Claims(jti: jti));
}
