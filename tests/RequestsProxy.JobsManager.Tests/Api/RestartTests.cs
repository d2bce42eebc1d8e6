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
        fake.SeedConfigMap(Ns, KubernetesHarness.LegacyTokensConfigMap, new Dictionary<string, string> { ["legacy-tokens.json"] = "[]" });
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
                o.LegacyTokensConfigMapName = KubernetesHarness.LegacyTokensConfigMap;
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
    public async Task Kubernetes_StateConfigMapMissingAndNotCreatable_NotReadyAndStartRefused()
    {
        // The jobs-manager creates a missing ledger at start-up; under a Role without that right (an older chart) it cannot.
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Ns, KubernetesHarness.RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        fake.RbacRules = [.. KubernetesHarness.ChartRules(Ns).Where(r => !(r.Verbs is ["create"] && r.Resources is ["configmaps"]))];
        await using var host = await ApiHost.StartAsync(
            configure: o =>
            {
                o.Runtime = JobRuntimeKind.Kubernetes;
                o.Namespace = Ns;
                o.JobNamespaces = [KubernetesHarness.JobsNamespace];
                o.RevokedConfigMapName = KubernetesHarness.RevokedConfigMap;
                o.StateConfigMapName = KubernetesHarness.StateConfigMap;
                o.LegacyTokensConfigMapName = KubernetesHarness.LegacyTokensConfigMap;
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

    [Fact]
    public async Task Local_KeepJobs_AppRestarted_RunningChildAdoptedKeepsItsTokenAndIsStoppedByTheNewOne()
    {
        var first = await ApiHost.StartAsync(configure: o => o.LocalKeepJobs = true);
        string token;
        int pid;
        try
        {
            using var created = await first.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "echo $$ > pid.tmp && mv pid.tmp pid; while true; do sleep 0.1; done" } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var folder = Path.Combine(first.Options.StateDirectory, "jobs", "job-1");
            await Eventually.TrueAsync(() => File.Exists(Path.Combine(folder, "pid")), "the child wrote its pid");
            pid = int.Parse(File.ReadAllText(Path.Combine(folder, "pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            token = File.ReadAllText(Path.Combine(folder, "token"));
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }

        // The jobs-manager goes (as its pod is replaced); the job does not.
        await using var host = await first.RestartAsync();
        Assert.True(ProcessProbe.IsAlive(pid), "the child outlived the jobs-manager");

        var job = (await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("jobs").EnumerateArray().Single();
        Assert.Equal("job-1", job.GetProperty("name").GetString());
        Assert.Equal("running", job.GetProperty("state").GetString(), ignoreCase: true);
        Assert.Equal(token, File.ReadAllText(Path.Combine(host.Options.StateDirectory, "jobs", "job-1", "token")));
        Assert.Empty(RevocationFile.Read(Path.Combine(host.Options.RevokedDirectory, RevocationFile.FileName)).Entries);

        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        await Eventually.TrueAsync(() => !ProcessProbe.IsAlive(pid), "the adopted child was killed by the stop");
    }

    [Fact]
    public async Task Local_KeepJobs_ChildExitedWhileNoJobsManagerRan_ReportedFailedNotGone()
    {
        var first = await ApiHost.StartAsync(configure: o =>
        {
            o.LocalKeepJobs = true;
            o.RefreshCheckInterval = TimeSpan.FromSeconds(1);
        });
        try
        {
            using var created = await first.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "echo $$ > pid.tmp && mv pid.tmp pid; while [ ! -f go ]; do sleep 0.05; done; exit 3" } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }

        // The job ends around the restart (before or after the new jobs-manager adopts it): either way it is
        // finished, not gone; only its parent saw its exit code, so it is reported failed.
        var folder = Path.Combine(first.Options.StateDirectory, "jobs", "job-1");
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(folder, "pid")), "the child wrote its pid");
        var restart = first.RestartAsync();
        File.WriteAllText(Path.Combine(folder, "go"), "");
        await Eventually.TrueAsync(() => !ProcessProbe.IsAlive(ReadPid(folder)), "the child exited");
        await using var host = await restart;

        await Eventually.TrueAsync(() =>
        {
            var jobs = host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs").GetAwaiter().GetResult().GetProperty("jobs");
            return jobs.GetArrayLength() == 1 && string.Equals(jobs[0].GetProperty("state").GetString(), "failed", StringComparison.OrdinalIgnoreCase);
        }, "the job reported as failed (exit code 3)");
    }

    private static int ReadPid(string folder) =>
        int.Parse(File.ReadAllText(Path.Combine(folder, "pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static RevocationList ReadRevoked(string json)
    {
        Assert.True(RevocationList.TryParse(Encoding.UTF8.GetBytes(json), out var list, out var error), error);
        return list;
    }
}
