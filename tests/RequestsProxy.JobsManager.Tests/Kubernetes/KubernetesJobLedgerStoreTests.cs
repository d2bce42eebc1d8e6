using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>
/// The job ledger in the state ConfigMap against the FAKE API server: optimistic concurrency, a
/// restart that forgets nothing, finished jobs revoked, refusals.
/// </summary>
public sealed class KubernetesJobLedgerStoreTests
{
    private const string Ns = KubernetesHarness.Namespace;

    [Fact]
    public async Task Update_ConfigMapChangedBetweenReadAndReplace_409RetriedAndBothJobsKept()
    {
        await using var k = await KubernetesHarness.StartAsync();
        using var meters = new TestMeterFactory();
        using var conflicts = new MetricCollector<long>(meters, JobsManagerMetrics.MeterName, "jobs_manager.ledger.conflicts");
        var store = KubernetesHarness.LedgerStore(k.Client, k.Core.Options, new JobsManagerMetrics(meters));
        var theirs = JobLedgerDocument.Empty.With(Entry("theirs"));
        var calls = 0;

        var snapshot = await store.UpdateAsync(document =>
        {
            // A concurrent writer lands after our read: our replace carries a stale resourceVersion.
            if (Interlocked.Increment(ref calls) == 1)
            {
                k.Fake.Update("v1", "ConfigMap", Ns, KubernetesHarness.StateConfigMap, cm => cm["data"]!["jobs.json"] = Encoding.UTF8.GetString(theirs.Serialize()));
            }

            return document.With(Entry("ours"));
        }, CancellationToken.None);

        Assert.Equal(2, calls);
        Assert.Equal(["theirs", "ours"], snapshot.Document.Jobs.Select(j => j.Name));
        Assert.Contains(k.Fake.Requests, r => r is { Verb: "update", Resource: "configmaps", Name: KubernetesHarness.StateConfigMap, StatusCode: 409 });
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(["theirs", "ours"], ReadLedger(k).Jobs.Select(j => j.Name));
        Assert.Equal(snapshot.SizeBytes, Encoding.UTF8.GetByteCount(ReadRaw(k)));
    }

    [Fact]
    public async Task Update_TwoProcessesWriteConcurrently_NothingLost()
    {
        await using var k = await KubernetesHarness.StartAsync();
        using var meters = new TestMeterFactory();
        var metrics = new JobsManagerMetrics(meters);
        using var otherClient = k.Fake.CreateClient(Ns);
        var stores = new[] { KubernetesHarness.LedgerStore(k.Client, k.Core.Options, metrics), KubernetesHarness.LedgerStore(otherClient, k.Core.Options, metrics) };

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => stores[i % 2].UpdateAsync(d => d.With(Entry($"job-{i:D2}")), CancellationToken.None))));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"job-{i:D2}"), ReadLedger(k).Jobs.Select(j => j.Name).Order(StringComparer.Ordinal));
        Assert.Contains(k.Fake.Requests, r => r is { Verb: "update", StatusCode: 409 });
    }

    [Fact]
    public async Task Start_FiftyConcurrently_EveryJobAndJtiInTheLedger()
    {
        await using var k = await KubernetesHarness.StartAsync();

        var views = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => k.Core.StartAsync($"job-{i:D2}"))));

        var ledger = ReadLedger(k);
        Assert.Equal(50, ledger.Jobs.Count);
        Assert.Equal(views.Select(v => v.Token!.Jti).Order(), ledger.Jobs.SelectMany(j => j.Tokens).Select(t => t.Jti).Order());
        Assert.All(ledger.Jobs, j => Assert.Equal(j.Tokens.Single().Jti, j.CurrentJti));
    }

    [Fact]
    public async Task Restart_SameApiServer_JobsListedStopRevokesPreRestartJtisRefreshContinues()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var jtis = new List<string> { (await k.Core.StartAsync("job-1")).Token!.Jti };
        await k.Core.StartAsync("job-2");
        var gone = (await k.Core.StartAsync("gone")).Token!.Jti;
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(3, await k.Core.Manager.RefreshAsync(CancellationToken.None));
        jtis.Add(k.Core.Manager.Get("job-1")!.Token!.Jti);
        var goneJtis = new[] { gone, k.Core.Manager.Get("gone")!.Token!.Jti };

        // While no jobs-manager runs, someone deletes one Job (its Secret goes with it).
        await k.Client.BatchV1.DeleteNamespacedJobAsync("gone", KubernetesHarness.JobsNamespace, propagationPolicy: "Background");
        k.Fake.ClearRequests();
        var restarted = k.Restart();
        Assert.True(await restarted.RestoreAsync(CancellationToken.None), restarted.RestoreProblem);

        Assert.Equal(["job-1", "job-2"], restarted.List().Select(j => j.Name));
        Assert.Equal(jtis[1], restarted.Get("job-1")!.Token!.Jti);
        Assert.Equal("/var/run/requests-proxy/token/token", restarted.Get("job-1")!.TokenFile);
        Assert.Equal(goneJtis.Order(), ReadRevoked(k).Entries.Select(e => e.Jti).Order());
        Assert.Equal(["job-1", "job-2"], ReadLedger(k).Jobs.Select(j => j.Name));

        // Refresh continues: the Secrets are patched with new tokens, recorded in the ledger first.
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(2, await restarted.RefreshAsync(CancellationToken.None));
        var secret = k.Fake.Find<V1Secret>(KubernetesHarness.JobsNamespace, "job-1-requests-proxy-token")!;
        var current = restarted.Get("job-1")!.Token!.Jti;
        Assert.Equal(current, secret.Metadata.Annotations["requests-proxy.io/token-jti"]);
        jtis.Add(current);
        Assert.Equal(jtis.Skip(1).Order(), ReadLedger(k).Find("job-1")!.Tokens.Select(t => t.Jti).Order());

        var stopped = await restarted.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Equal(2, stopped.Value!.Revoked);
        Assert.Equal(goneJtis.Concat(jtis.Skip(1)).Order(), ReadRevoked(k).Entries.Select(e => e.Jti).Order());
        Assert.Null(k.Fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1"));
        Assert.Equal(["job-2"], ReadLedger(k).Jobs.Select(j => j.Name));
        Assert.DoesNotContain(k.Fake.Requests, r => r.StatusCode == 403);
    }

    [Fact]
    public async Task Finished_JobCompletes_TokensRevokedInConfigMapAndJobKeptUntilDelete()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var jti = (await k.Core.StartAsync("job-1")).Token!.Jti;
        k.Fake.Update("batch/v1", "Job", KubernetesHarness.JobsNamespace, "job-1", job => job["status"] = JsonNode.Parse("""{"failed":1,"conditions":[{"type":"Failed","status":"True"}]}"""));

        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(1, await k.Core.Manager.RevokeFinishedAsync(CancellationToken.None));

        Assert.Equal([jti], ReadRevoked(k).Entries.Select(e => e.Jti));
        Assert.NotNull(k.Fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1"));
        Assert.True(ReadLedger(k).Find("job-1")!.TokensRevoked);
        Assert.Equal(JobState.Failed, k.Core.Manager.Get("job-1")!.State);

        // A restart does not revoke it twice, and DELETE then only deletes.
        var restarted = k.Restart();
        Assert.True(await restarted.RestoreAsync(CancellationToken.None));
        Assert.True(restarted.Get("job-1")!.TokensRevoked);
        var stopped = await restarted.StopAsync("job-1", CancellationToken.None);
        Assert.Equal(0, stopped.Value!.Revoked);
        Assert.Null(k.Fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1"));
        Assert.Single(ReadRevoked(k).Entries);
    }

    [Fact]
    public async Task Restore_StateConfigMapMissing_NotReadyWithClearProblem()
    {
        await using var k = await KubernetesHarness.StartAsync();
        // An operator's mistake the chart's RBAC would not let the jobs-manager make.
        k.Fake.RbacRules = null;
        await k.Client.CoreV1.DeleteNamespacedConfigMapAsync(KubernetesHarness.StateConfigMap, Ns);
        k.Fake.RbacRules = KubernetesHarness.ChartRules();

        var restarted = k.Restart();

        Assert.False(await restarted.RestoreAsync(CancellationToken.None));
        Assert.Contains("does not exist", restarted.RestoreProblem, StringComparison.Ordinal);
        Assert.Contains(KubernetesHarness.StateConfigMap, restarted.RestoreProblem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_CorruptLedger_RefusedAndLeftAsIs()
    {
        await using var k = await KubernetesHarness.StartAsync();
        k.Fake.Update("v1", "ConfigMap", Ns, KubernetesHarness.StateConfigMap, cm => cm["data"]!["jobs.json"] = "{not json");

        var result = await k.Core.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(JobError.Backend, result.Error);
        Assert.Equal("{not json", ReadRaw(k));
        Assert.Null(k.Fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1"));
    }

    private static JobLedgerEntry Entry(string name) =>
        new(name, DateTimeOffset.UnixEpoch, "trainer:1", [], [], "results:write", 1, "j-" + name, false, [new JobLedgerToken("j-" + name, "v1", name, 0, 4_000_000_000)]);

    private static string ReadRaw(KubernetesHarness k) => k.Fake.Find<V1ConfigMap>(Ns, KubernetesHarness.StateConfigMap)!.Data["jobs.json"];

    private static JobLedgerDocument ReadLedger(KubernetesHarness k)
    {
        Assert.True(JobLedgerDocument.TryParse(Encoding.UTF8.GetBytes(ReadRaw(k)), out var document, out var error), error);
        return document;
    }

    private static RevocationList ReadRevoked(KubernetesHarness k)
    {
        var configMap = k.Fake.Find<V1ConfigMap>(Ns, KubernetesHarness.RevokedConfigMap)!;
        Assert.True(RevocationList.TryParse(Encoding.UTF8.GetBytes(configMap.Data["revoked.json"]), out var list, out var error), error);
        return list;
    }
}
