using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>
/// The whole app stopped and started again on the same state — the FAKE Kubernetes API server, or
/// the same local folder — as a replaced pod or a restarted laptop process would be.
/// </summary>
public sealed class RestartTests
{
    private const string Ns = KubernetesHarness.Namespace;

    [Fact]
    public async Task Kubernetes_AppRestarted_JobsListedLoopRefreshesAndDeleteRevokesPreRestartJtis()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Ns, KubernetesHarness.RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        fake.SeedConfigMap(Ns, KubernetesHarness.StateConfigMap, new Dictionary<string, string> { ["jobs.json"] = KubernetesHarness.EmptyLedger });
        fake.RbacRules = KubernetesHarness.ChartRules();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var first = await ApiHost.StartAsync(
            configure: o =>
            {
                o.Runtime = JobRuntimeKind.Kubernetes;
                o.Namespace = Ns;
                o.JobNamespaces = [KubernetesHarness.JobsNamespace];
                o.ReleaseName = KubernetesHarness.Release;
                o.RevokedConfigMapName = KubernetesHarness.RevokedConfigMap;
                o.StateConfigMapName = KubernetesHarness.StateConfigMap;
            },
            configureBuilder: b =>
            {
                b.Services.AddSingleton<TimeProvider>(time);
                b.Services.AddSingleton(fake.CreateClient(Ns));

                // The fake clock drives the loop; a 409 backoff inside a pass must not wait for the test to move it.
                b.Services.AddSingleton(sp => new ConfigMapUpdater(sp.GetRequiredService<IKubernetes>(), sp.GetRequiredService<JobsManagerOptions>(),
                    TimeProvider.System, NullLogger<ConfigMapUpdater>.Instance));
            });
        var jtis = new List<string>();
        try
        {
            foreach (var name in new[] { "job-1", "job-2" })
            {
                using var created = await first.Client.PostAsJsonAsync("/v1/jobs", new { name, image = "trainer:1" });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                jtis.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetProperty("jti").GetString()!);
            }
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }

        await using var host = await first.RestartAsync();
        var loop = host.App.Services.GetRequiredService<JobMaintenanceService>();

        var list = await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs");
        var jobs = list.GetProperty("jobs").EnumerateArray().ToList();
        Assert.Equal(["job-1", "job-2"], jobs.Select(j => j.GetProperty("name").GetString()));
        Assert.Equal(jtis, jobs.Select(j => j.GetProperty("token").GetProperty("jti").GetString()));

        // The restarted loop keeps refreshing on the (fake) clock: past half the 1 h lifetime, each job gets a new token.
        await Eventually.TrueAsync(() => loop.Passes >= 1, "the first pass");
        for (var i = 0; i < 31; i++)
        {
            var passes = loop.Passes;
            time.Advance(TimeSpan.FromMinutes(1));
            await Eventually.TrueAsync(() => loop.Passes > passes, "a pass after the tick");
        }

        var refreshed = fake.Find<V1Secret>(KubernetesHarness.JobsNamespace, "job-1-requests-proxy-token")!.Metadata.Annotations["requests-proxy.io/token-jti"];
        Assert.NotEqual(jtis[0], refreshed);

        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        var body = await stopped.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("known").GetBoolean());
        Assert.Equal(2, body.GetProperty("revoked").GetInt32());
        var revoked = ReadRevoked(fake.Find<V1ConfigMap>(Ns, KubernetesHarness.RevokedConfigMap)!.Data["revoked.json"]);
        Assert.Equal(new[] { jtis[0], refreshed }.Order(), revoked.Entries.Select(e => e.Jti).Order());
        Assert.DoesNotContain(fake.Requests, r => r.StatusCode == 403);
    }

    [Fact]
    public async Task Kubernetes_StateConfigMapMissing_NotReadyAndStartRefused()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Ns, KubernetesHarness.RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        await using var host = await ApiHost.StartAsync(
            configure: o =>
            {
                o.Runtime = JobRuntimeKind.Kubernetes;
                o.Namespace = Ns;
                o.JobNamespaces = [KubernetesHarness.JobsNamespace];
                o.RevokedConfigMapName = KubernetesHarness.RevokedConfigMap;
                o.StateConfigMapName = KubernetesHarness.StateConfigMap;
            },
            configureBuilder: b => b.Services.AddSingleton(fake.CreateClient(Ns)));

        using var ready = await host.Client.GetAsync("/readyz");
        using var start = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", image = "trainer:1" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains(KubernetesHarness.StateConfigMap, await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, start.StatusCode);
        Assert.Null(fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1"));
    }

    [Fact]
    public async Task Local_AppRestarted_PreviousChildrenGoneTheirTokensRevokedAtStartUp()
    {
        var first = await ApiHost.StartAsync();
        string jti;
        try
        {
            using var created = await first.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 600" } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            jti = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetProperty("jti").GetString()!;
            var ledger = File.ReadAllText(Path.Combine(first.Options.StateDirectory, "jobs.json"));
            Assert.Contains(jti, ledger, StringComparison.Ordinal);
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }

        // Stopping the app kills its children (Local runtime): at the next start-up they are gone.
        await using var host = await first.RestartAsync();

        var list = await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs");
        Assert.Equal(0, list.GetProperty("jobs").GetArrayLength());
        var revoked = RevocationFile.Read(Path.Combine(host.Options.RevokedDirectory, RevocationFile.FileName));
        Assert.Equal([(jti, "job-1")], revoked.Entries.Select(e => (e.Jti, e.Sub!)));
        Assert.True(JobLedgerDocument.TryParse(File.ReadAllBytes(Path.Combine(host.Options.StateDirectory, "jobs.json")), out var document, out _));
        Assert.Empty(document.Jobs);
        Assert.False(File.Exists(Path.Combine(host.Options.StateDirectory, "jobs", "job-1", "token")));
    }

    private static RevocationList ReadRevoked(string json)
    {
        Assert.True(RevocationList.TryParse(Encoding.UTF8.GetBytes(json), out var list, out var error), error);
        return list;
    }
}
