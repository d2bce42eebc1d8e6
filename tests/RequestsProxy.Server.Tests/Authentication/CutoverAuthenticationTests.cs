using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Tests.Authentication;

/// <summary>
/// Every state of the legacy ↔ stateless flip (DESIGN §12): either kind of proxy accepts a JWT
/// and a listed legacy token, refuses what a stop removed, and a restart in the middle loses nothing.
/// </summary>
public sealed class CutoverAuthenticationTests
{
    private const string LegacyToken = "Zm9vYmFyLWxlZ2FjeS10b2tlbi0xMjM0NTY3ODkwYWJj";

    private static void Legacy(Dictionary<string, string?> settings) => settings[EnvironmentVariables.Stateless] = "false";

    private static void List(ProxyHarness proxy, params LegacyTokenEntry[] entries)
    {
        proxy.LegacyTokens.Write(new Dictionary<string, string>
        {
            [LegacyTokenList.FileName] = Encoding.UTF8.GetString(new LegacyTokenList(entries).Serialize()),
            [LegacyIssuer.FileName] = "closed\n",
        });
        var sources = proxy.App.Services.GetRequiredService<TokenSources>();
        sources.LegacyTokens.Reload();
        sources.Issuing.Check();
    }

    private static LegacyTokenEntry Entry(string token = LegacyToken, string sub = "job-1", long? until = null) =>
        new(LegacyTokenDigest.Compute(token), sub, "results:write flops:write", until);

    private static string Challenge(HttpResponseMessage response) => response.Headers.WwwAuthenticate.ToString();

    /// <summary>What a legacy jobs-manager does after listing the token: registers it with this pod.</summary>
    private static async Task RegisterAsync(ProxyHarness proxy)
    {
        using var register = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens")
        {
            Content = JsonContent.Create(new { token = LegacyToken, sub = "job-1", scope = "results:write" }),
        };
        register.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");
        using var response = await proxy.Client.SendAsync(register);
        Assert.True(response.IsSuccessStatusCode, $"registration: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task StatelessProxy_ListedLegacyToken_IsForwardedWithItsSubject()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        List(proxy, Entry());

        using var response = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
        Assert.Null(proxy.Upstream.Last!.Header("X-Requests-Proxy-Jti"));
        Assert.Contains("requests_proxy_legacy_tokens_accepted_total{otel_scope_name=\"RequestsProxy.Server\",source=\"list\"} 1", await proxy.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatelessProxy_UnlistedOpaqueToken_KeepsItsOldAnswerMalformed()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        List(proxy, Entry("some-other-token-0000000000000000000000000"));

        using var response = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"malformed\"", Challenge(response));
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task StatelessProxy_ListedTokenWithTwoDots_IsFoundInTheList_AnUnlistedOneStaysMalformed()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        const string dotted = "not.a.jwt";
        List(proxy, Entry(dotted));

        using var listed = await proxy.PostAsync("/v1/results", dotted);
        using var unlisted = await proxy.PostAsync("/v1/results", "also.not.ajwt");

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
        Assert.Equal(HttpStatusCode.Unauthorized, unlisted.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"malformed\"", Challenge(unlisted));
    }

    [Fact]
    public async Task LegacyProxy_ListedTokenWithTwoDots_IsFoundInTheList_AndRefusedOnceItsEntryEnds()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        const string dotted = "not.a.jwt";
        List(proxy, Entry(dotted));
        using var listed = await proxy.PostAsync("/v1/results", dotted);

        List(proxy, Entry(dotted, until: DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1));
        using var ended = await proxy.PostAsync("/v1/results", dotted);

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
    }

    [Fact]
    public async Task StatelessProxy_ListedTokenOfAStoppedJob_IsRefusedOnceTheListDropsIt()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        List(proxy, Entry(), Entry("job-2-token-000000000000000000000000000000", "job-2"));
        using (var before = await proxy.PostAsync("/v1/results", LegacyToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        List(proxy, Entry("job-2-token-000000000000000000000000000000", "job-2"));
        using var after = await proxy.PostAsync("/v1/results", LegacyToken);
        using var other = await proxy.PostAsync("/v1/results", "job-2-token-000000000000000000000000000000");

        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task StatelessProxy_EntryPastItsEnd_IsRefused()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        List(proxy, Entry(until: now - 1), Entry("still-in-grace-000000000000000000000000000", "job-2", until: now + 300));

        using var ended = await proxy.PostAsync("/v1/results", LegacyToken);
        using var grace = await proxy.PostAsync("/v1/results", "still-in-grace-000000000000000000000000000");

        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        Assert.Equal(HttpStatusCode.OK, grace.StatusCode);
    }

    [Fact]
    public async Task StatelessProxy_ListedTokenWithoutTheRouteScope_Is403()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: p => new
        {
            Routes = new Dictionary<string, object>
            {
                ["flops"] = new { ClusterId = "upstream", Match = new { Path = "/v1/flops" }, Metadata = new Dictionary<string, string> { ["RequiredScope"] = "flops:write" } },
            },
            Clusters = p.UpstreamCluster(),
        });
        List(proxy, new LegacyTokenEntry(LegacyTokenDigest.Compute(LegacyToken), "job-1", "results:write"));

        using var response = await proxy.PostAsync("/v1/flops", LegacyToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("error_description=\"missing_scope\"", Challenge(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatelessProxy_RestartedMidTransition_StillAcceptsListedTokensAndJwts()
    {
        var values = new Dictionary<string, string?>();
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            foreach (var (k, v) in s)
            {
                values[k] = v;
            }
        });
        List(proxy, Entry());
        var jwt = proxy.Mint("job-2");

        await proxy.RestartAsync(values);
        using var legacy = await proxy.PostAsync("/v1/results", LegacyToken);
        using var signed = await proxy.PostAsync("/v1/results", jwt);

        Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_Jwt_IsVerifiedAndForwardedWithItsJti()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var jwt = proxy.Mint("job-1");

        using var response = await proxy.PostAsync("/v1/results", jwt);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
        Assert.NotNull(proxy.Upstream.Last!.Header("X-Requests-Proxy-Jti"));
    }

    [Fact]
    public async Task LegacyProxy_BadOrRevokedJwt_IsRefusedWithItsReason()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var forged = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = proxy.Keys.Active }, ProxyHarness.Claims(), key: new byte[32]);
        var revoked = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = proxy.Keys.Active }, ProxyHarness.Claims(jti: "gone"));
        await ProxyAuthenticationTests.RevokeAsync(proxy, "gone");

        using var bad = await proxy.PostAsync("/v1/results", forged);
        using var stopped = await proxy.PostAsync("/v1/results", revoked);

        Assert.Contains("error_description=\"bad_signature\"", Challenge(bad), StringComparison.Ordinal);
        Assert.Contains("error_description=\"revoked\"", Challenge(stopped), StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task LegacyProxy_JwtBeforeTheKeyRingLoads_Is503NotA401_AndTheProxyStaysReady()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy, writeKeys: false);

        using var response = await proxy.PostAsync("/v1/results", "a.b.c");
        using var ready = await proxy.Management.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_RestartedMidTransition_AcceptsListedTokensItNeverRegistered()
    {
        var values = new Dictionary<string, string?>();
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            Legacy(s);
            foreach (var (k, v) in s)
            {
                values[k] = v;
            }
        });
        List(proxy, Entry());

        await proxy.RestartAsync(values);
        using var response = await proxy.PostAsync("/v1/results", LegacyToken);
        using var unknown = await proxy.PostAsync("/v1/results", "never-listed-token");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"unknown_token\"", Challenge(unknown));
    }

    [Fact]
    public async Task LegacyProxy_ForgetSubject_RefusesItsListedTokenAtOnce_BeforeTheListChanges()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        List(proxy, Entry(), Entry("job-2-token-000000000000000000000000000000", "job-2"));
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/admin/v1/subjects/job-1");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");

        using var forgot = await proxy.Client.SendAsync(request);
        using var stopped = await proxy.PostAsync("/v1/results", LegacyToken);
        using var other = await proxy.PostAsync("/v1/results", "job-2-token-000000000000000000000000000000");

        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stopped.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_ForgetDigest_RefusesThatTokenAtOnce_EvenWhileListed_OtherTokensOfTheJobStay()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        const string other = "job-1-second-token-0000000000000000000000";
        List(proxy, Entry(), Entry(other));
        await RegisterAsync(proxy);
        HttpRequestMessage Forget(string digest, string admin = "admin-secret") => new(HttpMethod.Delete, "/admin/v1/tokens/" + digest)
        {
            Headers = { { "Authorization", "Bearer " + admin } },
        };

        using var anonymous = await proxy.Client.SendAsync(Forget(LegacyTokenDigest.Compute(LegacyToken), "wrong"));
        using var bad = await proxy.Client.SendAsync(Forget("not-a-digest"));
        using var forgot = await proxy.Client.SendAsync(Forget(LegacyTokenDigest.Compute(LegacyToken)));
        using var refused = await proxy.PostAsync("/v1/results", LegacyToken);
        using var kept = await proxy.PostAsync("/v1/results", other);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        Assert.Contains("\"removed\":1", await forgot.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_ReRegisteredAfterForget_WorksAgain()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        List(proxy, Entry());
        using (var forget = new HttpRequestMessage(HttpMethod.Delete, "/admin/v1/subjects/job-1"))
        {
            forget.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");
            (await proxy.Client.SendAsync(forget)).Dispose();
        }

        await RegisterAsync(proxy);
        using var response = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_RegisteredTokenWhoseEntryEnded_IsRefusedAfterTheEnd_EvenOnceTheListDropsIt()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        List(proxy, Entry());
        await RegisterAsync(proxy);

        // The job got a JWT: its entry ended (the grace is over), then the jobs-manager dropped it.
        List(proxy, Entry(until: DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1));
        using var ended = await proxy.PostAsync("/v1/results", LegacyToken);
        List(proxy);
        using var dropped = await proxy.PostAsync("/v1/results", LegacyToken);

        // A restarted pod would refuse it too: this one never accepts longer than a fresh one.
        Assert.Equal(HttpStatusCode.Unauthorized, ended.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, dropped.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_RegisteredTokenWhoseEntryIsRemovedWithoutAForget_IsRefused()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        List(proxy, Entry(), Entry("job-2-token-000000000000000000000000000000", "job-2"));
        await RegisterAsync(proxy);
        using (var before = await proxy.PostAsync("/v1/results", LegacyToken))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // The job was stopped: its entry left the list, but the forget never reached this pod.
        List(proxy, Entry("job-2-token-000000000000000000000000000000", "job-2"));
        using var stopped = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.Unauthorized, stopped.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"unknown_token\"", Challenge(stopped));
    }

    [Fact]
    public async Task LegacyProxy_RegisteredBeforeTheListReachedIt_AcceptedUntilListed_ThenTheListDecides()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        await RegisterAsync(proxy);

        using var bridged = await proxy.PostAsync("/v1/results", LegacyToken);
        List(proxy, Entry());
        using var listed = await proxy.PostAsync("/v1/results", LegacyToken);
        // Its end was dropped before this pod saw it (a slow poll): the list no longer holds it, so it is refused.
        List(proxy);
        using var dropped = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.OK, bridged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, dropped.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_RegisteredWhileAlreadyListed_IsRefusedOnceTheListDropsIt()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        List(proxy, Entry());
        await RegisterAsync(proxy);

        List(proxy);
        using var dropped = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.Unauthorized, dropped.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_WithASyncWait_NotReadyUntilTheJobsManagersSync_WhichRegistersItsBatch()
    {
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            Legacy(s);
            s[EnvironmentVariables.LegacySyncWaitSeconds] = "600";
        });

        using var before = await proxy.Management.GetAsync("/readyz");
        using var anonymous = await proxy.Client.PostAsJsonAsync("/admin/v1/sync", new { registrations = Array.Empty<object>() });
        using var sync = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/sync")
        {
            Content = JsonContent.Create(new { registrations = new[] { new { token = LegacyToken, sub = "job-1", scope = "results:write" } } }),
        };
        sync.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");
        using var synced = await proxy.Client.SendAsync(sync);
        using var after = await proxy.Management.GetAsync("/readyz");
        using var accepted = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Contains("not synced", await before.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, synced.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
    }

    [Fact]
    public async Task LegacyProxy_SyncWithAnInvalidRegistration_RegistersNothing_AndStatelessAnswers404()
    {
        await using var legacy = await ProxyHarness.StartAsync(Legacy);
        await using var stateless = await ProxyHarness.StartAsync();
        HttpRequestMessage Sync() => new(HttpMethod.Post, "/admin/v1/sync")
        {
            Content = JsonContent.Create(new { registrations = new object[] { new { token = LegacyToken, sub = "job-1" }, new { token = "has space", sub = "job-2" } } }),
            Headers = { { "Authorization", "Bearer admin-secret" } },
        };

        using var refused = await legacy.Client.SendAsync(Sync());
        using var unknown = await legacy.PostAsync("/v1/results", LegacyToken);
        using var disabled = await stateless.Client.SendAsync(Sync());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("registrations[1]", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, disabled.StatusCode);
    }

    [Fact]
    public async Task LegacyProxy_RegisteredTokenInItsGrace_IsStillAccepted()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        await RegisterAsync(proxy);

        List(proxy, Entry(until: DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 300));
        using var response = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CorruptListAtStart_NotReady_ThenReadyOnceFixed(bool stateless)
    {
        var values = new Dictionary<string, string?>();
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            s[EnvironmentVariables.Stateless] = stateless ? "true" : "false";
            foreach (var (k, v) in s)
            {
                values[k] = v;
            }
        });
        proxy.LegacyTokens.Write(new Dictionary<string, string> { [LegacyTokenList.FileName] = "[{" });
        await proxy.RestartAsync(values);

        using var before = await proxy.Management.GetAsync("/readyz");
        using var refused = await proxy.PostAsync("/v1/results", LegacyToken);
        List(proxy, Entry());
        using var after = await proxy.Management.GetAsync("/readyz");
        using var accepted = await proxy.PostAsync("/v1/results", LegacyToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Contains("legacy token list", await before.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }
}
