using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Tests.Legacy;

/// <summary>
/// A legacy replica that restarted onto a stale copy of the list (finding B7 of 2026-12-02): until the jobs-manager's
/// first sync (or the fallback wait) it answers legacy tokens 503 <c>not_ready</c> on the pod-facing port — a JWT is
/// judged as ever — and the sync's <c>forgotten</c> digests make it refuse what was stopped before it started.
/// </summary>
public sealed class LegacySyncGateTests
{
    private const string Stopped = "c3RvcHBlZC1qb2ItdG9rZW4tMDAwMDAwMDAwMDAwMDAwMDAw";
    private const string Running = "cnVubmluZy1qb2ItdG9rZW4tMDAwMDAwMDAwMDAwMDAwMDAw";

    private static void LegacyWaitingForSync(Dictionary<string, string?> settings)
    {
        settings[EnvironmentVariables.Stateless] = "false";
        settings[EnvironmentVariables.LegacySyncWaitSeconds] = "60";
    }

    /// <summary>The copy the kubelet left before the stop: both jobs' entries live.</summary>
    private static void StaleCopy(ProxyHarness proxy)
    {
        proxy.LegacyTokens.Write(new Dictionary<string, string>
        {
            [LegacyTokenList.FileName] = Encoding.UTF8.GetString(new LegacyTokenList(
            [
                new(LegacyTokenDigest.Compute(Stopped), "job-1", "results:write"),
                new(LegacyTokenDigest.Compute(Running), "job-2", "results:write"),
            ]).Serialize()),
            [LegacyIssuer.FileName] = "opaque\n",
        });
        proxy.App.Services.GetRequiredService<TokenSources>().LegacyTokens.Reload();
    }

    private static async Task<HttpResponseMessage> SyncAsync(ProxyHarness proxy, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/sync") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");
        return await proxy.Client.SendAsync(request);
    }

    [Fact]
    public async Task RestartedOnAStaleCopy_LegacyTokens503UntilTheSync_JwtsServed_ThenTheStoppedTokenIs401()
    {
        await using var proxy = await ProxyHarness.StartAsync(LegacyWaitingForSync);
        StaleCopy(proxy);

        using (var stopped = await proxy.PostAsync("/v1/results", Stopped))
        using (var running = await proxy.PostAsync("/v1/results", Running))
        using (var unknown = await proxy.PostAsync("/v1/results", "never-issued-token-000000000000000000000000"))
        using (var jwt = await proxy.PostAsync("/v1/results", proxy.Mint("job-3")))
        using (var ready = await proxy.Management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stopped.StatusCode);
            Assert.Contains("not_ready", await stopped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.NotNull(stopped.Headers.RetryAfter);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, running.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unknown.StatusCode);
            Assert.Equal(HttpStatusCode.OK, jwt.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        Assert.Equal(1, proxy.Upstream.Count);

        using (var synced = await SyncAsync(proxy, new { registrations = Array.Empty<object>(), forgotten = new[] { LegacyTokenDigest.Compute(Stopped) } }))
        {
            Assert.Equal(HttpStatusCode.OK, synced.StatusCode);
        }

        using (var stopped = await proxy.PostAsync("/v1/results", Stopped))
        using (var running = await proxy.PostAsync("/v1/results", Running))
        using (var unknown = await proxy.PostAsync("/v1/results", "never-issued-token-000000000000000000000000"))
        using (var ready = await proxy.Management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, stopped.StatusCode);
            Assert.Equal(HttpStatusCode.OK, running.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // Still refused when a later copy of the list is the same stale one, and when a registration of it comes along.
        StaleCopy(proxy);
        using (var again = await SyncAsync(proxy, new { registrations = new[] { new { digest = LegacyTokenDigest.Compute(Stopped), sub = "job-1", scope = "results:write" } }, forgotten = new[] { LegacyTokenDigest.Compute(Stopped) } }))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        using var still = await proxy.PostAsync("/v1/results", Stopped);
        Assert.Equal(HttpStatusCode.Unauthorized, still.StatusCode);
    }

    [Fact]
    public async Task Sync_WithoutForgotten_AsAnOlderJobsManagerSendsIt_SyncsTheReplica()
    {
        await using var proxy = await ProxyHarness.StartAsync(LegacyWaitingForSync);
        StaleCopy(proxy);

        using var synced = await SyncAsync(proxy, new { registrations = Array.Empty<object>() });
        using var running = await proxy.PostAsync("/v1/results", Running);

        Assert.Equal(HttpStatusCode.OK, synced.StatusCode);
        Assert.Equal(HttpStatusCode.OK, running.StatusCode);
    }

    [Theory]
    [InlineData("{\"registrations\":[],\"forgotten\":\"x\"}")]
    [InlineData("{\"registrations\":[],\"forgotten\":[\"not-a-digest\"]}")]
    [InlineData("{\"registrations\":[],\"forgotten\":[42]}")]
    public async Task Sync_InvalidForgotten_400_TheReplicaStaysUnsynced(string body)
    {
        await using var proxy = await ProxyHarness.StartAsync(LegacyWaitingForSync);
        StaleCopy(proxy);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/sync") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");
        using var refused = await proxy.Client.SendAsync(request);
        using var running = await proxy.PostAsync("/v1/results", Running);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, running.StatusCode);
    }

    [Fact]
    public async Task NoSyncWait_LegacyTokensServedAtOnce()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s[EnvironmentVariables.Stateless] = "false");
        StaleCopy(proxy);

        using var running = await proxy.PostAsync("/v1/results", Running);

        Assert.Equal(HttpStatusCode.OK, running.StatusCode);
    }
}
