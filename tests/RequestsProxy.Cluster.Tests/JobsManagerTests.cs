using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// The jobs-manager in its pod, on the real API with the chart's RBAC: jobs start and their pods
/// post through the proxy Service, stop revokes (20 at once lose no jti), the garbage collector
/// removes a deleted Job's token Secret, a restarted jobs-manager restores from its ledger.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class JobsManagerTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [ClusterFact]
    public Task StartStopRestart_RealApi_PodsPostRevokedCollectedAndRestored() => ClusterScenario.RunAsync(cluster, output, "jm", async scenario =>
    {
        var release = scenario.Release;
        await release.InstallAsync();
        var api = await JobsManagerApi.ConnectAsync(release);
        try
        {
            // Started jobs run as real pods that post through the proxy Service.
            var fleet = await TrainerFleet.StartAsync(cluster, release, api, "jm", 2);
            var tallies = await fleet.WaitForProgressAsync(null, 5, Limit);
            Assert.All(tallies.Values, t => Assert.Equal(0, t.Unauthorized));
            var job = await cluster.Client.BatchV1.ReadNamespacedJobAsync("jm-1", release.JobsNamespace);
            Assert.Equal("jm-1", job.Spec.Template.Metadata.Labels["job-name"]);
            Assert.Equal("jm-1", (await cluster.Client.CoreV1.ReadNamespacedSecretAsync("jm-1-requests-proxy-token", release.JobsNamespace)).Metadata.OwnerReferences.Single().Name);

            // A restarted jobs-manager restores its jobs (and their jtis) from the ledger.
            var jtisBefore = await JtisAsync(api, fleet.Jobs);
            var manager = (await cluster.Client.CoreV1.ListNamespacedPodAsync(release.Namespace, labelSelector: $"app.kubernetes.io/instance={release.Name},app.kubernetes.io/component=jobs-manager")).Items.Single();
            await cluster.KubectlCheckedAsync("-n", release.Namespace, "delete", "pod", manager.Metadata.Name, "--wait=true", "--timeout=120s");
            await release.WaitForDeploymentAsync(release.JobsManagerName, Limit);
            api.Dispose();
            api = await JobsManagerApi.ConnectAsync(release);
            await Wait.UntilAsync("the restarted jobs-manager answering", Limit, async () => (await api.ListAsync()).Count >= 0);
            Assert.Equal(jtisBefore, await JtisAsync(api, fleet.Jobs));

            // Stop revokes: the jti lands in the revoked ConfigMap; the Job goes, and the garbage
            // collector removes its owned token Secret.
            var stopped = await api.StopAsync("jm-1");
            Assert.True(stopped["revoked"]!.GetValue<int>() >= 1, stopped.ToJsonString());
            Assert.Contains(jtisBefore["jm-1"], await release.RevokedJtisAsync());
            await Wait.UntilAsync("the Job jm-1 and its token Secret garbage-collected", Limit, async () =>
                await Wait.IsGoneAsync(() => cluster.Client.BatchV1.ReadNamespacedJobAsync("jm-1", release.JobsNamespace))
                && await Wait.IsGoneAsync(() => cluster.Client.CoreV1.ReadNamespacedSecretAsync("jm-1-requests-proxy-token", release.JobsNamespace)));
            await api.StopAsync("jm-2");

            // A token Secret the jobs-manager did not create (here the operator's): 409 naming it, not a
            // take-over (changing its ownerReferences would be a 403 under OwnerReferencesPermissionEnforcement).
            var leftover = await cluster.Client.CoreV1.CreateNamespacedSecretAsync(new k8s.Models.V1Secret
            {
                Metadata = new k8s.Models.V1ObjectMeta { Name = "left-1-requests-proxy-token" },
                StringData = new Dictionary<string, string> { ["token"] = "an earlier job's" },
            }, release.JobsNamespace);
            var (status, answer) = await api.TryStartTrainerAsync("left-1", cluster.WorkloadImage, seconds: 60);
            output.WriteLine($"start over a leftover token Secret: {(int)status} {answer}");
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Contains($"a Secret named 'left-1-requests-proxy-token' already exists in namespace '{release.JobsNamespace}'", JsonNode.Parse(answer)!["message"]!.GetValue<string>(), StringComparison.Ordinal);
            var untouched = await cluster.Client.CoreV1.ReadNamespacedSecretAsync("left-1-requests-proxy-token", release.JobsNamespace);
            Assert.Equal(leftover.Metadata.ResourceVersion, untouched.Metadata.ResourceVersion);
            Assert.Null(untouched.Metadata.OwnerReferences);
            // Found by a dry-run create before the Job: no Job, so no pod ever mounted the operator's Secret.
            Assert.True(await Wait.IsGoneAsync(() => cluster.Client.BatchV1.ReadNamespacedJobAsync("left-1", release.JobsNamespace)));
            Assert.Null(await api.GetAsync("left-1"));

            // Nothing of a job lands in the release namespace, which holds the keys.
            Assert.Empty((await cluster.Client.BatchV1.ListNamespacedJobAsync(release.Namespace)).Items);

            // 20 jobs stopped at once: every jti ends up in the revocation list.
            var names = Enumerable.Range(1, 20).Select(i => $"burst-{i}").ToList();
            var jtis = new List<string>();
            foreach (var name in names)
            {
                var started = await api.StartTrainerAsync(name, cluster.WorkloadImage, seconds: 120);
                jtis.Add(started["token"]!["jti"]!.GetValue<string>());
            }

            var answers = await Task.WhenAll(names.Select(api.StopAsync));
            Assert.All(answers, a => Assert.True(a["revoked"]!.GetValue<int>() >= 1, a.ToJsonString()));
            var revoked = await release.RevokedJtisAsync();
            var missing = jtis.Where(j => !revoked.Contains(j)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of 20 jtis missing from the revocation list after concurrent stops: {string.Join(", ", missing)}");
        }
        finally
        {
            api.Dispose();
        }
    });

    private static async Task<Dictionary<string, string>> JtisAsync(JobsManagerApi api, IEnumerable<string> jobs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            var view = await api.GetAsync(job) ?? throw new Xunit.Sdk.XunitException($"the jobs-manager does not know job {job}");
            result[job] = view["token"]!["jti"]!.GetValue<string>();
        }

        return result;
    }
}
