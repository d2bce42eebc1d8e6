using System.Text;
using k8s;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>The chart on a real Kubernetes v1.20.2: install in both scopes, upgrade, uninstall, reinstall.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ChartInstallTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [ClusterFact]
    public Task Install_NamespaceScope_EveryObjectAcceptedAndAvailable() => InstallEveryObjectAsync(clusterScope: false);

    [ClusterFact]
    public Task Install_ClusterScope_EveryObjectAcceptedAndAvailable() => InstallEveryObjectAsync(clusterScope: true);

    [ClusterFact]
    public Task UpgradeUninstallReinstall_ReuseValues_KeysRevokedAndLedgerKeptByteForByte() => ClusterScenario.RunAsync(cluster, output, "life", async scenario =>
    {
        var release = scenario.Release;
        await release.InstallAsync();

        // Give the revocation list and the ledger real content: a job started and stopped.
        using (var api = await JobsManagerApi.ConnectAsync(release))
        {
            await api.StartTrainerAsync("keepme", cluster.WorkloadImage, seconds: 600);
            var stopped = await api.StopAsync("keepme");
            Assert.True(stopped["revoked"]!.GetValue<int>() >= 1, stopped.ToJsonString());
        }

        var before = await SnapshotAsync(release);
        Assert.Contains(before.Revoked.Values, v => Encoding.UTF8.GetString(v) != "[]");

        await release.UpgradeAsync("--reuse-values", "--set", "requestsProxy.keys.pollSeconds=5");
        await release.WaitForDeploymentAsync(release.ProxyName, TimeSpan.FromMinutes(3));
        AssertSame(before, await SnapshotAsync(release), "helm upgrade --reuse-values");

        await release.UninstallAsync();
        AssertSame(before, await SnapshotAsync(release), "helm uninstall (helm.sh/resource-policy: keep)");
        Assert.Empty((await cluster.Client.AppsV1.ListNamespacedDeploymentAsync(release.Namespace, labelSelector: $"app.kubernetes.io/instance={release.Name}")).Items);

        await release.InstallAsync();
        var after = await SnapshotAsync(release);
        AssertSame(before, after, "helm install over the kept objects");
        Assert.Equal(release.Name, after.KeysReleaseAnnotation);
    });

    private Task InstallEveryObjectAsync(bool clusterScope) => ClusterScenario.RunAsync(cluster, output, $"inst-{(clusterScope ? "cs" : "ns")}", async scenario =>
    {
        var release = scenario.Release;
        await release.InstallAsync("--set", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}");
        var manifest = await release.ManifestAsync();
        var documents = manifest.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Count(d => d.Contains("\nkind:", StringComparison.Ordinal));
        Assert.Contains("apiVersion: policy/v1beta1", manifest, StringComparison.Ordinal);

        // Every rendered object exists on the server (kubectl get fails on the first missing one).
        var file = Path.Combine(Path.GetTempPath(), $"manifest-{release.Namespace}.yaml");
        await File.WriteAllTextAsync(file, manifest);
        string names;
        try
        {
            names = await cluster.KubectlCheckedAsync("get", "-f", file, "-o", "name");
        }
        finally
        {
            File.Delete(file);
        }

        var objects = names.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine(string.Join('\n', objects));
        Assert.Equal(documents, objects.Length);
        Assert.Contains(objects, o => o.StartsWith(clusterScope ? "clusterrole.rbac.authorization.k8s.io/" : "role.rbac.authorization.k8s.io/", StringComparison.Ordinal));
        Assert.Contains(objects, o => o.StartsWith("rolebinding.rbac.authorization.k8s.io/", StringComparison.Ordinal));
        Assert.DoesNotContain(objects, o => o.StartsWith("clusterrolebinding.rbac.authorization.k8s.io/", StringComparison.Ordinal));
        Assert.Contains($"namespace/{release.JobsNamespace}", objects);
        Assert.Contains(objects, o => o.StartsWith("poddisruptionbudget.policy/", StringComparison.Ordinal));
        Assert.Contains(objects, o => o.StartsWith("networkpolicy.networking.k8s.io/", StringComparison.Ordinal));

        await release.WaitForDeploymentAsync(release.ProxyName, TimeSpan.FromMinutes(2));
        await release.WaitForDeploymentAsync(release.JobsManagerName, TimeSpan.FromMinutes(2));
        Assert.Equal(2, (await release.ProxyPodsAsync()).Count(p => p.Status.ContainerStatuses?.All(c => c.Ready) == true));
    });

    private async Task<Snapshot> SnapshotAsync(ChartRelease release)
    {
        var keys = await cluster.Client.CoreV1.ReadNamespacedSecretAsync(release.KeysSecretName, release.Namespace);
        var revoked = await release.RevokedConfigMapsAsync();
        Assert.NotEmpty(revoked);
        var ledger = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(release.StateConfigMapName, release.Namespace);
        return new Snapshot(
            keys.Data.ToDictionary(kv => kv.Key, kv => kv.Value),
            revoked.SelectMany(m => m.Data.Select(kv => (Key: $"{m.Metadata.Name}/{kv.Key}", kv.Value))).ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value)),
            ledger.Data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value)),
            keys.Metadata.Annotations is { } a && a.TryGetValue("meta.helm.sh/release-name", out var r) ? r : null);
    }

    private static void AssertSame(Snapshot expected, Snapshot actual, string step)
    {
        AssertBytes(expected.Keys, actual.Keys, $"keys Secret after {step}");
        AssertBytes(expected.Revoked, actual.Revoked, $"revocation ConfigMaps after {step}");
        AssertBytes(expected.Ledger, actual.Ledger, $"job ledger after {step}");
    }

    private static void AssertBytes(Dictionary<string, byte[]> expected, Dictionary<string, byte[]> actual, string what)
    {
        Assert.True(expected.Keys.Order().SequenceEqual(actual.Keys.Order()), $"{what}: keys {string.Join(',', expected.Keys)} became {string.Join(',', actual.Keys)}");
        foreach (var (key, value) in expected)
        {
            Assert.True(value.AsSpan().SequenceEqual(actual[key]), $"{what}: '{key}' changed");
        }
    }

    private sealed record Snapshot(Dictionary<string, byte[]> Keys, Dictionary<string, byte[]> Revoked, Dictionary<string, byte[]> Ledger, string? KeysReleaseAnnotation);
}
