using System.Diagnostics;
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
    public Task ProxyPodsDeletedAndKilled_ContinuousLoad_NoValidTokenRefused() => ClusterScenario.RunAsync(cluster, output, "ops1", async scenario =>
    {
        var release = scenario.Release;
        scenario.Report.AppendLine($"OPS-1 on Kubernetes {cluster.KubernetesVersion}, 2 proxy replicas, 3 trainers");
        await release.InstallAsync();
        using var api = await JobsManagerApi.ConnectAsync(release);
        var fleet = await TrainerFleet.StartAsync(cluster, release, api, "train", 3);
        var baseline = await fleet.WaitForProgressAsync(null, 20, StepLimit);
        scenario.Report.AppendLine($"baseline: {TrainerFleet.Sum(baseline)}");

        var original = (await release.ProxyPodsAsync()).Select(p => p.Metadata.Name).Order().ToList();
        Assert.Equal(2, original.Count);

        var latest = baseline;
        latest = await scenario.StepAsync("delete one proxy pod", fleet, latest, () => DeletePodsAsync(release, original[0]));
        latest = await scenario.StepAsync("delete the other proxy pod", fleet, latest, () => DeletePodsAsync(release, original[1]));
        var current = (await release.ProxyPodsAsync()).Select(p => p.Metadata.Name).ToArray();
        latest = await scenario.StepAsync("delete both proxy pods", fleet, latest, () => DeletePodsAsync(release, current));
        latest = await scenario.StepAsync("SIGKILL a proxy process in its container", fleet, latest, () => KillProxyProcessAsync(release));

        var totals = TrainerFleet.Sum(latest);
        scenario.Report.AppendLine($"total: {totals}");
        await fleet.AssertNoUnauthorizedAsync(latest);
        Assert.Equal(0, totals.Unauthorized);
        Assert.True(totals.Ok > 4 * 30, $"the trainers made too little progress: {totals}");
    }, reportName: "ops1");

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
}
