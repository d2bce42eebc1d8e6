using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>The revocation list's size limit against the FAKE API server, which refuses what the real one refuses.</summary>
public sealed class RevocationShardsTests
{
    private const string Ns = KubernetesHarness.Namespace;
    private const string Name = KubernetesHarness.RevokedConfigMap;

    [Theory]
    [InlineData(1024 * 1024, true)]
    [InlineData(1024 * 1024 + 1, false)]
    public async Task FakeApiServer_ConfigMapDataAtTheOneMiBBoundary_AcceptedOrRefused422(int bytes, bool accepted)
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Ns, Name, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        using var client = fake.CreateClient(Ns);
        var configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(Name, Ns);
        configMap.Data["revoked.json"] = new string('x', bytes);

        var replace = () => client.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, Name, Ns);

        if (accepted)
        {
            await replace();
            Assert.Equal(bytes, fake.Find<V1ConfigMap>(Ns, Name)!.Data["revoked.json"].Length);
        }
        else
        {
            var e = await Assert.ThrowsAsync<HttpOperationException>(replace);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
            Assert.Contains("Too long: must have at most 1048576 bytes", e.Response.Content, StringComparison.Ordinal);
            Assert.Equal("[]", fake.Find<V1ConfigMap>(Ns, Name)!.Data["revoked.json"]);
        }
    }

    [Fact]
    public async Task Stop_SingleConfigMapAlmostFull_502NamingTheLimit_NothingSentOverIt_JobKeepsRunning()
    {
        // The case: a compact list just under 1 MiB; the next stop's entries do not fit.
        var list = FullList(room: 40);
        await using var k = await KubernetesHarness.StartAsync(revoked: Encoding.UTF8.GetString(list.Serialize()));
        await k.Core.StartAsync("job-1");

        var result = await k.Core.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(JobError.Backend, result.Error);
        Assert.Contains("the revocation list is full", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(k.Fake.Requests, r => r is { Verb: "update", Resource: "configmaps", Name: Name });
        Assert.NotEqual(JobState.Stopping, k.Core.Manager.Get("job-1")!.State);
        Assert.DoesNotContain(k.Fake.Requests, r => r is { Verb: "delete", Resource: "jobs" });
    }

    [Fact]
    public async Task Stop_ThreeShardsFirstFull_EntriesGoToTheOtherShardConfigMaps_ProxyFolderUnionHasThem()
    {
        var list = FullList(room: 40);
        await using var k = await KubernetesHarness.StartAsync(revoked: Encoding.UTF8.GetString(list.Serialize()), shards: 3);
        var jobs = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            await k.Core.StartAsync($"job-{i}");
            jobs.Add(k.Core.Manager.Get($"job-{i}")!.Token!.Jti);
        }

        foreach (var i in Enumerable.Range(0, 6))
        {
            var stop = await k.Core.Manager.StopAsync($"job-{i}", CancellationToken.None);
            Assert.True(stop.Succeeded, stop.Message);
        }

        // What the proxy sees: the three ConfigMaps projected into one folder as revoked.json, revoked-1.json, revoked-2.json.
        using var folder = new RequestsProxy.Testing.Files.TempFolder("rp-shards");
        for (var i = 0; i < 3; i++)
        {
            var data = k.Fake.Find<V1ConfigMap>(Ns, KubernetesStores.RevocationShardName(Name, i))!.Data["revoked.json"];
            Assert.InRange(Encoding.UTF8.GetByteCount(data), 2, DocumentLimits.ConfigMapBytes);
            File.WriteAllText(Path.Combine(folder.Path, i == 0 ? RevocationFile.FileName : RevocationSource.ShardFileName(i)), data);
        }

        using var source = new RevocationSource(folder.Path, TimeSpan.FromSeconds(10), TimeProvider.System);
        source.Start();
        Assert.All(jobs, jti => Assert.True(source.Current.Contains(jti), jti));
        Assert.Equal(list.Count + 6, source.Current.Count);
        Assert.Equal(list.Count, k.Fake.Find<V1ConfigMap>(Ns, Name)!.Data["revoked.json"].Count(c => c == '{'));
    }

    [Fact]
    public async Task Update_SingleStoreOverTheLimit_RefusedBeforeTheApi()
    {
        await using var k = await KubernetesHarness.StartAsync();
        using var meters = new TestMeterFactory();
        var store = KubernetesHarness.LedgerStore(k.Client, k.Core.Options, new JobsManagerMetrics(meters));
        var huge = JobLedgerDocument.Empty;
        for (var i = 0; i < 6000; i++)
        {
            huge = huge.With(new JobLedgerEntry($"job-{i}", DateTimeOffset.UnixEpoch, new string('i', 200), [], [], "results:write", 1, null, false, []));
        }

        var e = await Assert.ThrowsAsync<DocumentTooLargeException>(() => store.UpdateAsync(_ => huge, CancellationToken.None));

        Assert.Contains("over the 1048576-byte limit of ConfigMap", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(k.Fake.Requests, r => r is { Verb: "update", Resource: "configmaps" });
    }

    /// <summary>A compact list of unexpired entries that leaves exactly <paramref name="room"/> bytes of a ConfigMap's 1 MiB free.</summary>
    private static RevocationList FullList(int room)
    {
        var entries = new List<RevocationEntry>();
        var size = 2L; // "[]\n" less the comma the first entry does not need
        for (var i = 0; ; i++)
        {
            var entry = new RevocationEntry($"old-{i:D8}-xxxxxxxxxxxx", 4_000_000_000, "some-earlier-job");
            var left = DocumentLimits.ConfigMapBytes - room - size;
            if (RevocationList.SerializedLength(entry) * 2 > left)
            {
                // The last entry's subject pads the list to the exact size.
                var last = entry with { Sub = entry.Sub + new string('p', (int)left - RevocationList.SerializedLength(entry)) };
                var list = new RevocationList([.. entries, last]);
                Assert.Equal(DocumentLimits.ConfigMapBytes - room, list.Serialize().Length);
                return list;
            }

            entries.Add(entry);
            size += RevocationList.SerializedLength(entry);
        }
    }
}
