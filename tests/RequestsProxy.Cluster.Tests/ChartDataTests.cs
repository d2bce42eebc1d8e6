using System.Diagnostics;
using System.Text;
using k8s;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using RequestsProxy.Testing.Tools;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// The chart renders no live data (revocation shards, job ledger, legacy list): the jobs-manager
/// creates and owns them. On the real v1.20.2 with the real helm: the upgrade from the chart that
/// rendered them (main at 3fad74e) keeps their data, rollbacks between revisions of this chart
/// keep it, what a rollback to the old chart costs, and how long a fresh install's proxies wait.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ChartDataTests(ClusterFixture cluster, ITestOutputHelper output)
{
    /// <summary>The last commit whose chart rendered the three ConfigMaps through lookup.</summary>
    private const string OldChartCommit = "3fad74e";

    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [ClusterFact]
    public Task UpgradeFromRenderedLists_ThenRollbacks_DataIntactAndRevokedTokensStayRefused() =>
        ClusterScenario.RunAsync(cluster, output, "data", async scenario =>
        {
            var release = scenario.Release;
            var oldChart = await ExtractOldChartAsync();
            try
            {
                // Revision 1: the old chart (today's images: they find the ConfigMaps the old chart rendered and create nothing).
                await cluster.HelmCheckedAsync(["install", release.Name, oldChart, "-n", release.Namespace, "--wait", "--timeout", "5m", .. release.BaseValues]);
                var a = await StartStopAsync(release, "job-a");
                await AssertRefusedEverywhereAsync(release, a, "job-a's token after its stop (old chart)");
                var before = await ListsAsync(release);

                // Revision 2: this chart. The three ConfigMaps leave the manifest; keep means Helm leaves them alone.
                await release.UpgradeAsync("--reset-then-reuse-values");
                await release.WaitForDeploymentAsync(release.ProxyName, Bound);
                await release.WaitForDeploymentAsync(release.JobsManagerName, Bound);
                var manifest = await release.ManifestAsync();
                Assert.False(RendersConfigMap(manifest, release.RevokedConfigMapName), $"the manifest renders ConfigMap {release.RevokedConfigMapName}");
                Assert.False(RendersConfigMap(manifest, release.StateConfigMapName), $"the manifest renders ConfigMap {release.StateConfigMapName}");
                Assert.False(RendersConfigMap(manifest, release.LegacyTokensConfigMapName), $"the manifest renders ConfigMap {release.LegacyTokensConfigMapName}");
                AssertSame(before, await ListsAsync(release), "helm upgrade from the chart that rendered them");
                await AssertRefusedEverywhereAsync(release, a, "job-a's token after the upgrade");

                // Revision 3: a values change; job-b stopped in between is in no revision's manifest.
                var b = await StartStopAsync(release, "job-b");
                await release.UpgradeAsync("--reuse-values", "--set", "requestsProxy.keys.pollSeconds=5");
                await release.WaitForDeploymentAsync(release.ProxyName, Bound);
                var c = await StartStopAsync(release, "job-c");
                var live = await ListsAsync(release);

                // Rollback to revision 2 and forward again (to 3): nothing of the lists moves.
                await cluster.HelmCheckedAsync("rollback", release.Name, "2", "-n", release.Namespace, "--wait", "--timeout", "5m");
                await release.WaitForDeploymentAsync(release.ProxyName, Bound);
                AssertSame(live, await ListsAsync(release), "helm rollback to revision 2");
                await cluster.HelmCheckedAsync("rollback", release.Name, "3", "-n", release.Namespace, "--wait", "--timeout", "5m");
                await release.WaitForDeploymentAsync(release.ProxyName, Bound);
                AssertSame(live, await ListsAsync(release), "helm rollback to revision 3");
                foreach (var (job, token) in new[] { ("job-a", a), ("job-b", b), ("job-c", c) })
                {
                    await AssertRefusedEverywhereAsync(release, token, $"{job}'s token after the rollbacks");
                }

                // Rollback to revision 1, the old chart, whose manifest holds the lists as they were then: record what it does.
                var toOld = await cluster.HelmAsync("rollback", release.Name, "1", "-n", release.Namespace, "--wait", "--timeout", "5m");
                var afterOld = await ListsAsync(release);
                var reapplied = !Same(live, afterOld);
                scenario.Report.AppendLine($"helm rollback to the old chart's revision: exit {toOld.ExitCode}; lists {(reapplied ? "RE-APPLIED from revision 1" : "unchanged")}\n{toOld.StandardOutput}\n{toOld.StandardError}");
                if (toOld.ExitCode != 0)
                {
                    // Helm cannot patch an object its current revision does not own ("no ConfigMap with the name … found"): it fails before the lists change.
                    Assert.Contains("ConfigMap", toOld.StandardError, StringComparison.Ordinal);
                    Assert.False(reapplied, "a failed rollback changed the lists");
                }

                // And forward again with this chart: from here on, nothing of the lists is in a manifest.
                await release.UpgradeAsync("--reset-then-reuse-values");
                await release.WaitForDeploymentAsync(release.ProxyName, Bound);
                await release.WaitForDeploymentAsync(release.JobsManagerName, Bound);
                AssertSame(afterOld, await ListsAsync(release), "helm upgrade back to this chart");
                await AssertRefusedEverywhereAsync(release, a, "job-a's token at the end");
                if (!reapplied)
                {
                    await AssertRefusedEverywhereAsync(release, b, "job-b's token at the end");
                    await AssertRefusedEverywhereAsync(release, c, "job-c's token at the end");
                }
            }
            finally
            {
                Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(oldChart))))!, recursive: true);
            }
        }, reportName: "chart-data-rollback");

    [ClusterFact]
    public Task FreshInstall_ProxiesWaitForTheListsTheJobsManagerCreates_ThenReady() =>
        ClusterScenario.RunAsync(cluster, output, "fresh", async scenario =>
        {
            var release = scenario.Release;
            var stopwatch = Stopwatch.StartNew();
            await release.InstallAsync();
            scenario.Report.AppendLine($"helm install --wait: {stopwatch.Elapsed.TotalSeconds:F1} s");

            var shards = await release.RevokedConfigMapsAsync();
            Assert.Equal(16, shards.Count);
            Assert.All(shards, s => Assert.Equal("jobs-manager", s.Metadata.Labels["app.kubernetes.io/managed-by"]));
            var ledger = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(release.StateConfigMapName, release.Namespace);
            var legacy = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(release.LegacyTokensConfigMapName, release.Namespace);
            var created = new V1ConfigMap[] { ledger, legacy }.Concat(shards).Max(m => m.Metadata.CreationTimestamp!.Value);

            // Each proxy pod became Ready only after the last list existed: the kubelet's sync of the optional volume.
            foreach (var pod in await release.ProxyPodsAsync())
            {
                var started = pod.Status.StartTime!.Value;
                var ready = pod.Status.Conditions.Single(c => c.Type == "Ready" && c.Status == "True").LastTransitionTime!.Value;
                scenario.Report.AppendLine($"{pod.Metadata.Name}: started {started:O}, lists created {created:O}, Ready {ready:O}: {(ready - created).TotalSeconds:F0} s after the last list (kubelet syncFrequency {cluster.KubeletSync.TotalSeconds} s)");
                Assert.True(ready >= created, $"{pod.Metadata.Name} was Ready at {ready:O}, before the last list existed at {created:O}");
            }

            var stopped = await StartStopAsync(release, "job-fresh");
            await AssertRefusedEverywhereAsync(release, stopped, "a stopped job's token on a fresh install");
        }, reportName: "chart-data-fresh-install");

    /// <summary>Starts a trainer, copies its token, stops it (the revocation list and ledger get content); returns the token.</summary>
    private async Task<string> StartStopAsync(ChartRelease release, string job)
    {
        using var api = await JobsManagerApi.ConnectAsync(release);
        await api.StartTrainerAsync(job, cluster.WorkloadImage, seconds: 600);
        var secret = await cluster.Client.CoreV1.ReadNamespacedSecretAsync($"{job}-requests-proxy-token", release.JobsNamespace);
        var token = Encoding.ASCII.GetString(secret.Data["token"]).Trim();
        var stopped = await api.StopAsync(job);
        Assert.True(stopped["revoked"]!.GetValue<int>() >= 1, stopped.ToJsonString());
        return token;
    }

    /// <summary>Every proxy pod answers the token 401, each within the bound (kubelet sync + poll), asked pod by pod.</summary>
    private async Task AssertRefusedEverywhereAsync(ChartRelease release, string token, string what)
    {
        foreach (var pod in await release.ProxyPodsAsync())
        {
            var url = new Uri($"http://{pod.Status.PodIP}:8888");
            await Wait.UntilAsync($"{what}: 401 from {pod.Metadata.Name}", Bound, async () => await ProxyProbe.PostAsync(url, "job-x", token) == 401);
        }
    }

    private async Task<Dictionary<string, string>> ListsAsync(ChartRelease release)
    {
        var maps = (await cluster.Client.CoreV1.ListNamespacedConfigMapAsync(release.Namespace)).Items
            .Where(m => m.Metadata.Name.StartsWith(release.RevokedConfigMapName, StringComparison.Ordinal)
                || m.Metadata.Name == release.StateConfigMapName || m.Metadata.Name == release.LegacyTokensConfigMapName);
        return maps.SelectMany(m => (m.Data ?? new Dictionary<string, string>()).Select(kv => ($"{m.Metadata.Name}/{kv.Key}", kv.Value)))
            .ToDictionary(kv => kv.Item1, kv => kv.Value);
    }

    /// <summary>A ConfigMap document of that name (the Deployments' volumes name them too, deeper down).</summary>
    private static bool RendersConfigMap(string manifest, string name) =>
        manifest.Split("\n---").Any(d => d.Contains("\nkind: ConfigMap\n", StringComparison.Ordinal) && d.Contains($"\n  name: {name}\n", StringComparison.Ordinal));

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static void AssertSame(Dictionary<string, string> expected, Dictionary<string, string> actual, string step)
    {
        Assert.True(expected.Keys.Order(StringComparer.Ordinal).SequenceEqual(actual.Keys.Order(StringComparer.Ordinal)),
            $"after {step}: {string.Join(',', expected.Keys)} became {string.Join(',', actual.Keys)}");
        foreach (var (key, value) in expected)
        {
            Assert.True(value == actual[key], $"after {step}: '{key}' changed from {Cut(value)} to {Cut(actual[key])}");
        }
    }

    private static string Cut(string s) => s.Length <= 300 ? s : s[..300] + "…";

    /// <summary>The chart of <see cref="OldChartCommit"/>, from this repository's history (git archive).</summary>
    private static async Task<string> ExtractOldChartAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"rp-old-chart-{Suffix()}", "x");
        Directory.CreateDirectory(folder);
        var archive = Path.Combine(folder, "chart.tar");
        var result = await ToolProcess.RunAsync("git", ["-C", RepositoryRoot.Path, "archive", "-o", archive, OldChartCommit, "deploy/charts/requests-proxy"], RepositoryRoot.Path, null, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"git archive {OldChartCommit}: {result.StandardError}");
        var untar = await ToolProcess.RunAsync("tar", ["-xf", archive, "-C", folder], folder, null, TimeSpan.FromMinutes(1));
        Assert.True(untar.ExitCode == 0, untar.StandardError);
        return Path.Combine(folder, "deploy", "charts", "requests-proxy");
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..6];
}
