using System.Text;
using k8s.Models;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>The ConfigMap revocation store against the FAKE API server: optimistic concurrency and refusals.</summary>
public sealed class KubernetesRevocationStoreTests
{
    private const string Ns = KubernetesHarness.Namespace;

    [Fact]
    public async Task Update_ConfigMapChangedBetweenReadAndReplace_409RetriedAndBothEntriesKept()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Ns, KubernetesHarness.RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        fake.RbacRules = KubernetesHarness.ChartRules();
        using var client = fake.CreateClient(Ns);
        using var meters = new TestMeterFactory();
        using var conflicts = new MetricCollector<long>(meters, JobsManagerMetrics.MeterName, "jobs_manager.revocation.conflicts");
        var store = KubernetesHarness.RevocationStore(client, KubernetesHarness.Options(), new JobsManagerMetrics(meters));
        var calls = 0;

        var snapshot = await store.UpdateAsync(list =>
        {
            // A concurrent writer lands after our read: our replace carries a stale resourceVersion.
            if (Interlocked.Increment(ref calls) == 1)
            {
                fake.Update("v1", "ConfigMap", Ns, KubernetesHarness.RevokedConfigMap, cm => cm["data"]!["revoked.json"] = "[\"theirs\"]");
            }

            return list.Add([new RevocationEntry("ours", 1_900_000_000, "job-1")]);
        }, CancellationToken.None);

        Assert.Equal(2, calls);
        Assert.Equal(["theirs", "ours"], snapshot.Document.Entries.Select(e => e.Jti));
        Assert.Contains(fake.Requests, r => r is { Verb: "update", StatusCode: 409 });
        Assert.Equal(1, conflicts.GetMeasurementSnapshot().EvaluateAsCounter());
        var stored = fake.Find<V1ConfigMap>(Ns, KubernetesHarness.RevokedConfigMap)!.Data["revoked.json"];
        Assert.Equal(snapshot.SizeBytes, Encoding.UTF8.GetByteCount(stored));
        Assert.True(RevocationList.TryParse(Encoding.UTF8.GetBytes(stored), out var list, out _));
        Assert.Equal(["theirs", "ours"], list.Entries.Select(e => e.Jti));
    }

    [Fact]
    public async Task Update_CorruptList_RefusedAndLeftAsIs()
    {
        await using var k = await KubernetesHarness.StartAsync(revoked: "{not json");

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => k.Core.Store.UpdateAsync(l => l.Add([new RevocationEntry("x", 1, "s")]), CancellationToken.None));

        Assert.Contains(KubernetesHarness.RevokedConfigMap, e.Message, StringComparison.Ordinal);
        Assert.Equal("{not json", k.Fake.Find<V1ConfigMap>(Ns, KubernetesHarness.RevokedConfigMap)!.Data["revoked.json"]);
        Assert.DoesNotContain(k.Fake.Requests, r => r.Verb == "update");
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    public async Task Update_ExistingShardBlank_RefusedNotReadAsEmpty(string blank)
    {
        // An operator's `kubectl create configmap` with no data after a deletion: read as empty, the next stop
        // would write a one-entry list and every proxy would drop the revocations it had kept.
        await using var k = await KubernetesHarness.StartAsync(revoked: blank);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => k.Core.Store.UpdateAsync(l => l.Add([new RevocationEntry("x", 1, "s")]), CancellationToken.None));

        Assert.Contains($"the ConfigMap '{KubernetesHarness.RevokedConfigMap}' exists but its key 'revoked.json' is blank", e.Message, StringComparison.Ordinal);
        Assert.Contains("Restore it from a backup", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(k.Fake.Requests, r => r.Verb == "update");
    }

    [Fact]
    public async Task Update_ConfigMapMissing_ClearError()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        using var client = fake.CreateClient(Ns);
        using var meters = new TestMeterFactory();
        var store = KubernetesHarness.RevocationStore(client, KubernetesHarness.Options(), new JobsManagerMetrics(meters));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.ReadAsync(CancellationToken.None));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
