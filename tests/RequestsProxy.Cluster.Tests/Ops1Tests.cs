using System.Diagnostics;
using System.Text;
using k8s;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// OPS-1 on a real node: under continuous load from three training pods, delete one proxy pod,
/// then the other, then both, then SIGKILL a proxy process inside its container: no valid token
/// is ever answered 401 (connection errors are retried by the trainers and counted apart).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class Ops1Tests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(3);

    [ClusterFact]
    public async Task ProxyPodsDeletedAndKilled_ContinuousLoad_NoValidTokenRefused()
    {
        cluster.EnsureUp();
        var release = new ChartRelease(cluster, $"ops1-{Guid.NewGuid().ToString("N")[..6]}");
        await release.CreateNamespaceAsync();
        var report = new StringBuilder($"OPS-1 on Kubernetes {cluster.KubernetesVersion}, 2 proxy replicas, 3 trainers\n");
        try
        {
            await Workloads.DeployUpstreamAsync(cluster, release.Namespace);
            await release.InstallAsync();
            using var api = await JobsManagerApi.ConnectAsync(release);
            var fleet = await TrainerFleet.StartAsync(cluster, release, api, "train", 3);
            var baseline = await fleet.WaitForProgressAsync(null, 20, StepLimit);
            report.AppendLine($"baseline: {TrainerFleet.Sum(baseline)}");

            var original = (await release.ProxyPodsAsync()).Select(p => p.Metadata.Name).Order().ToList();
            Assert.Equal(2, original.Count);

            var latest = baseline;
            latest = await StepAsync("delete one proxy pod", report, fleet, release, latest, () => DeletePodsAsync(release, original[0]));
            latest = await StepAsync("delete the other proxy pod", report, fleet, release, latest, () => DeletePodsAsync(release, original[1]));
            var current = (await release.ProxyPodsAsync()).Select(p => p.Metadata.Name).ToArray();
            latest = await StepAsync("delete both proxy pods", report, fleet, release, latest, () => DeletePodsAsync(release, current));
            latest = await StepAsync("SIGKILL a proxy process in its container", report, fleet, release, latest, () => KillProxyProcessAsync(release));

            var totals = TrainerFleet.Sum(latest);
            report.AppendLine($"total: {totals}");
            output.WriteLine(report.ToString());
            await WriteReportAsync(report.ToString());
            await fleet.AssertNoUnauthorizedAsync(latest);
            Assert.Equal(0, totals.Unauthorized);
            Assert.True(totals.Ok > 4 * 30, $"the trainers made too little progress: {totals}");
        }
        catch
        {
            output.WriteLine(report.ToString());
            await cluster.DumpAsync(release.Namespace, output);
            throw;
        }
        finally
        {
            await release.DeleteNamespaceAsync();
        }
    }

    /// <summary>Runs a disruption, waits until the proxy Deployment is whole again and every trainer progressed.</summary>
    private async Task<IReadOnlyDictionary<string, TrainerTally>> StepAsync(
        string name, StringBuilder report, TrainerFleet fleet, ChartRelease release, IReadOnlyDictionary<string, TrainerTally> before, Func<Task> disrupt)
    {
        var stopwatch = Stopwatch.StartNew();
        await disrupt();
        var ready = stopwatch.Elapsed;
        await release.WaitForDeploymentAsync(release.ProxyName, StepLimit);
        var after = await fleet.WaitForProgressAsync(before, 10, StepLimit);
        var delta = TrainerFleet.Sum(after);
        var prior = TrainerFleet.Sum(before);
        report.AppendLine($"{name}: proxies Ready again after {ready.TotalSeconds:0.0} s; during the step " +
            $"requests={delta.Requests - prior.Requests} 401={delta.Unauthorized - prior.Unauthorized} connection_errors={delta.ConnectionErrors - prior.ConnectionErrors} other={delta.Other - prior.Other}");
        return after;
    }

    private static Task DeletePodsAsync(ChartRelease release, params string[] pods) => release.DeleteProxyPodsAsync(StepLimit, pods);

    /// <summary>SIGKILL from the node, like the OOM killer: the kubelet restarts the container in place.</summary>
    private async Task KillProxyProcessAsync(ChartRelease release)
    {
        var pod = (await release.ProxyPodsAsync()).OrderBy(p => p.Metadata.Name).First();
        var restarts = pod.Status.ContainerStatuses.Single().RestartCount;
        var container = (await cluster.DockerCheckedAsync("ps", "-q", "--filter", $"label=io.kubernetes.pod.name={pod.Metadata.Name}", "--filter", "label=io.kubernetes.container.name=requests-proxy")).Trim();
        Assert.False(string.IsNullOrEmpty(container), $"no running requests-proxy container for pod {pod.Metadata.Name}");
        var pid = (await cluster.DockerCheckedAsync("inspect", "-f", "{{.State.Pid}}", container)).Trim();
        Process.GetProcessById(int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture)).Kill();
        await release.WaitForReadyProxiesAsync(p => p.Metadata.Name != pod.Metadata.Name || p.Status.ContainerStatuses.Single().RestartCount > restarts,
            $"pod {pod.Metadata.Name} restarted its container and Ready again", StepLimit);
    }

    private async Task WriteReportAsync(string text)
    {
        var dir = Path.Combine(cluster.CacheDirectory, "reports");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, $"ops1-{DateTime.UtcNow:yyyyMMdd-HHmmss}.txt"), text);
    }
}
