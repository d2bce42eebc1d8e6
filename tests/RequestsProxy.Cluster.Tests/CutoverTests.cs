using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// Issue 15 on a real node: a release installed in legacy mode with three trainers posting ~10
/// requests/s each under legacy opaque tokens is flipped with the documented
/// <c>helm upgrade --reuse-values --set requestsProxy.statelessTokens=true</c>; every trainer
/// keeps posting with no 401 and ends up on a signed token (its Secret re-minted by the new
/// jobs-manager), so a proxy pod deleted afterwards costs nothing either. Then the same command
/// with <c>false</c> flips back: the JWT holders (converted and stateless-born) keep working.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CutoverTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(3);

    [ClusterFact]
    public Task FlipToStatelessAndBack_UnderLoad_NoValidTokenRefused() => ClusterScenario.RunAsync(cluster, output, "cut", async scenario =>
    {
        var release = scenario.Release;
        var report = scenario.Report;
        report.AppendLine($"cutover on Kubernetes {cluster.KubernetesVersion} (kubelet sync {cluster.KubeletSync.TotalSeconds:0} s), 2 proxy replicas, 3 trainers");
        await release.InstallAsync("--set", "requestsProxy.statelessTokens=false");
        IReadOnlyDictionary<string, TrainerTally> latest;
        TrainerFleet fleet;
        using (var legacyApi = await JobsManagerApi.ConnectAsync(release))
        {
            // A legacy jobs-manager registers each token with every proxy pod through the headless Service's DNS name,
            // which this cluster's DNS serves some seconds after the pods exist: a start before that is a 502, retried.
            fleet = new TrainerFleet(cluster, release, ["cut-1", "cut-2", "cut-3"]);
            foreach (var job in fleet.Jobs)
            {
                await StartRetryingAsync(legacyApi, job);
            }

            latest = await fleet.WaitForProgressAsync(null, 20, StepLimit);
        }

        foreach (var job in fleet.Jobs)
        {
            Assert.False(IsJwt(await TokenOfAsync(release, job)), $"{job} should hold a legacy opaque token before the flip");
        }

        var listed = await LegacyEntriesAsync(release);
        Assert.Equal(fleet.Jobs.Order(), listed.Select(e => (string)e!["sub"]!).Order());
        Assert.All(listed, e => Assert.Null(e!["until"]));
        // Issue 15 C3: the legacy jobs-manager wrote issuing: opaque beside the list before its first opaque token.
        Assert.Equal("opaque", await IssuingAsync(release));
        report.AppendLine($"legacy baseline: {TrainerFleet.Sum(latest)}; {listed.Count} live legacy tokens listed; issuing: opaque");

        // The whole run, the legacy start included: a proxy pod the headless Service's DNS did not list yet when
        // a token was registered is not ready until the jobs-manager's registration sync has reached it.
        await fleet.AssertNoUnauthorizedAsync(latest);

        // The documented flip, under load: one value, --reuse-values.
        var flip = Stopwatch.StartNew();
        await release.UpgradeAsync("--reuse-values", "--set", "requestsProxy.statelessTokens=true");
        var upgraded = flip.Elapsed;
        await release.WaitForDeploymentAsync(release.ProxyName, StepLimit);
        await Wait.UntilAsync("every trainer posting with a signed token", StepLimit, async () =>
        {
            latest = await fleet.TalliesAsync();
            return fleet.Jobs.All(j => latest.TryGetValue(j, out var t) && t.OkByKid.Where(k => k.Key.Length > 0).Sum(k => k.Value) >= 5);
        }, TimeSpan.FromSeconds(1));
        var converted = flip.Elapsed;
        foreach (var job in fleet.Jobs)
        {
            Assert.True(IsJwt(await TokenOfAsync(release, job)), $"{job}'s token Secret should hold a signed token after the flip");
        }

        var ended = await LegacyEntriesAsync(release);
        Assert.All(ended, e => Assert.NotNull(e!["until"]));
        Assert.Equal("closed", await IssuingAsync(release));
        var afterFlip = TrainerFleet.Sum(latest);
        report.AppendLine($"flip to stateless: helm upgrade --wait {upgraded.TotalSeconds:0.0} s; every trainer on its signed token after {converted.TotalSeconds:0.0} s; " +
            $"{ended.Count} legacy entries ending; since the start {afterFlip}");
        await fleet.AssertNoUnauthorizedAsync(latest);

        // A proxy restart after the flip: every job holds a JWT, so it costs nothing.
        latest = await scenario.StepAsync("delete a proxy pod (stateless)", fleet, latest, scenario.DeleteFirstProxyPodAsync);

        // A job born under stateless, so the flip back has both kinds of JWT holder.
        using (var statelessApi = await JobsManagerApi.ConnectAsync(release))
        {
            await statelessApi.StartTrainerAsync("cut-4", cluster.WorkloadImage);
        }

        var everyone = new TrainerFleet(cluster, release, [.. fleet.Jobs, "cut-4"]);
        latest = await everyone.WaitForProgressAsync(latest, 10, StepLimit);

        // Back to legacy: the same command with false, no --force; nothing is stranded.
        flip.Restart();
        await release.UpgradeAsync("--reuse-values", "--set", "requestsProxy.statelessTokens=false");
        var back = flip.Elapsed;
        await release.WaitForDeploymentAsync(release.ProxyName, StepLimit);
        latest = await everyone.WaitForProgressAsync(latest, 10, StepLimit);
        Assert.Equal("opaque", await IssuingAsync(release));
        report.AppendLine($"flip back to legacy: helm upgrade --wait {back.TotalSeconds:0.0} s; since the start {TrainerFleet.Sum(latest)}");
        foreach (var job in everyone.Jobs)
        {
            Assert.True(IsJwt(await TokenOfAsync(release, job)), $"{job} should keep its signed token after the flip back");
        }

        latest = await scenario.StepAsync("delete a proxy pod (legacy again)", everyone, latest, scenario.DeleteFirstProxyPodAsync);

        var totals = TrainerFleet.Sum(latest);
        report.AppendLine($"total: {totals}");
        await everyone.AssertNoUnauthorizedAsync(latest);
        Assert.Equal(0, totals.Unauthorized);
    }, reportName: "cutover");

    private async Task StartRetryingAsync(JobsManagerApi api, string job)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await api.StartTrainerAsync(job, cluster.WorkloadImage);
                return;
            }
            catch (Xunit.Sdk.XunitException e) when (e.Message.Contains(": 502 ", StringComparison.Ordinal) && e.Message.Contains("did not resolve", StringComparison.Ordinal) && stopwatch.Elapsed < StepLimit)
            {
                output.WriteLine($"{job}: {e.Message} (retrying)");
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }

    private static bool IsJwt(string token) => token.Count(c => c == '.') == 2;

    private async Task<string> TokenOfAsync(ChartRelease release, string job)
    {
        var secret = await cluster.Client.CoreV1.ReadNamespacedSecretAsync($"{job}-requests-proxy-token", release.JobsNamespace);
        return Encoding.ASCII.GetString(secret.Data["token"]).Trim();
    }

    private async Task<string> IssuingAsync(ChartRelease release)
    {
        var map = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(release.LegacyTokensConfigMapName, release.Namespace);
        return map.Data.TryGetValue("issuing", out var issuing) ? issuing.Trim() : "(none)";
    }

    private async Task<JsonArray> LegacyEntriesAsync(ChartRelease release)
    {
        var map = await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(release.LegacyTokensConfigMapName, release.Namespace);
        return JsonNode.Parse(map.Data["legacy-tokens.json"])!.AsArray();
    }
}
