using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// Key rotation through the real keys Secret, with the real kubelet propagating the volume (its
/// sync period is set to 5 s by tests/cluster/up; upstream default 1 min): add, wait until every
/// proxy pod reports the kid, promote, the jobs-manager re-mints, 0 × 401 under load throughout;
/// then a stopped job's copied token is refused within kubelet sync + the proxy's poll period.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RotationTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan PropagationLimit = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RevokedPoll = TimeSpan.FromSeconds(10);

    [ClusterFact]
    public Task AddPromoteRemint_UnderLoad_NoValidTokenRefusedAndStoppedTokenRefusedSoon() => ClusterScenario.RunAsync(cluster, output, "rot", async scenario =>
    {
        var release = scenario.Release;
        await release.InstallAsync("--set", $"requestsProxy.revoked.pollSeconds={RevokedPoll.TotalSeconds}");
        using var api = await JobsManagerApi.ConnectAsync(release);
        var fleet = await TrainerFleet.StartAsync(cluster, release, api, "rot", 3);
        var latest = await fleet.WaitForProgressAsync(null, 10, TimeSpan.FromMinutes(3));

        // Add v2 (not active) to the real Secret.
        var v2 = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        await PatchKeysAsync(release, new Dictionary<string, string> { ["v2"] = v2 });
        var added = await WaitForEveryProxyAsync(release, "v2", active: false);
        scenario.Report.AppendLine($"add v2: every proxy pod reported it after {added.TotalSeconds:0.0} s");

        // Promote: new tokens are signed with v2 and the jobs-manager re-mints every live job.
        await PatchKeysAsync(release, new Dictionary<string, string> { ["active"] = "v2" });
        var promoted = await WaitForEveryProxyAsync(release, "v2", active: true);
        scenario.Report.AppendLine($"promote v2: every proxy pod reported it active after {promoted.TotalSeconds:0.0} s");
        var stopwatch = Stopwatch.StartNew();
        await Wait.UntilAsync("every trainer posting with a v2 token", PropagationLimit, async () =>
        {
            latest = await fleet.TalliesAsync();
            return fleet.Jobs.All(j => latest.TryGetValue(j, out var t) && t.OkByKid.GetValueOrDefault("v2") >= 5);
        }, TimeSpan.FromSeconds(1));
        scenario.Report.AppendLine($"re-mint: every trainer posted with v2 after {stopwatch.Elapsed.TotalSeconds:0.0} s; {TrainerFleet.Sum(latest)}");
        await fleet.AssertNoUnauthorizedAsync(latest);
        Assert.Equal(0, TrainerFleet.Sum(latest).Unauthorized);

        // A stopped job's token, copied before the stop, is refused once the revocation reaches the proxies.
        var victim = fleet.Jobs[0];
        var secret = await cluster.Client.CoreV1.ReadNamespacedSecretAsync($"{victim}-requests-proxy-token", release.JobsNamespace);
        var copied = Encoding.ASCII.GetString(secret.Data["token"]).Trim();
        var pods = await release.ProxyPodsAsync();
        Assert.Equal(2, pods.Count);
        foreach (var pod in pods)
        {
            Assert.Equal(200, await ProxyProbe.PostAsync(PodUrl(pod), victim, copied));
        }

        await api.StopAsync(victim);
        stopwatch.Restart();

        // Each pod's volume is synced by the kubelet on its own schedule: wait for every pod, each within the bound.
        var limit = cluster.KubeletSync + RevokedPoll + TimeSpan.FromSeconds(20);
        foreach (var pod in pods)
        {
            await Wait.UntilAsync($"the copied token of stopped job {victim} refused by proxy pod {pod.Metadata.Name}", limit - stopwatch.Elapsed, async () =>
                await ProxyProbe.PostAsync(PodUrl(pod), victim, copied) == 401, TimeSpan.FromMilliseconds(250));
            scenario.Report.AppendLine($"revocation: proxy pod {pod.Metadata.Name} refused the stopped job's copied token after {stopwatch.Elapsed.TotalSeconds:0.0} s (bound {limit.TotalSeconds:0} s = kubelet sync {cluster.KubeletSync.TotalSeconds:0} s + poll {RevokedPoll.TotalSeconds:0} s + 20 s)");
        }

        // Once refused, refused for good (no pod falls back to an older list).
        foreach (var pod in pods)
        {
            Assert.Equal(401, await ProxyProbe.PostAsync(PodUrl(pod), victim, copied));
        }
    }, reportName: "rotation");

    private static Uri PodUrl(V1Pod pod) => new($"http://{pod.Status.PodIP}:8888");

    private async Task PatchKeysAsync(ChartRelease release, Dictionary<string, string> values)
    {
        var patch = System.Text.Json.JsonSerializer.Serialize(new { stringData = values });
        await cluster.Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), release.KeysSecretName, release.Namespace);
    }

    private static async Task<TimeSpan> WaitForEveryProxyAsync(ChartRelease release, string kid, bool active)
    {
        var pods = await release.ProxyPodsAsync();
        Assert.Equal(2, pods.Count);
        return await Wait.UntilAsync($"every proxy pod reporting {kid} (active={active})", PropagationLimit, async () =>
        {
            foreach (var pod in pods)
            {
                var kids = await ProxyProbe.KidsAsync(pod.Status.PodIP);
                if (!kids.TryGetValue(kid, out var isActive) || isActive != active)
                {
                    return false;
                }
            }

            return true;
        });
    }
}
