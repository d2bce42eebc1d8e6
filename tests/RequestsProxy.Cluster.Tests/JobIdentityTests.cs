using k8s;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// A job is its Job's uid, not its name: someone deletes the jobs-manager's Job behind its back and
/// creates another of the same name — labelled like ours, its pods asking for our token Secret. On
/// the real apiserver (its garbage collector, the Job controller, uid preconditions) that Job gets no
/// token while the jobs-manager runs, a DELETE of the job revokes ours and leaves theirs, and a
/// jobs-manager restarted while the swap happened revokes and forgets ours (JobIdentityTests in the
/// jobs-manager's unit tests hold the same corners against the fake API).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class JobIdentityTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [ClusterFact]
    public Task SameNamedStranger_RealApi_GetsNoTokenIsNotDeletedAndOursIsRevoked() => ClusterScenario.RunAsync(cluster, output, "uid", async scenario =>
    {
        var release = scenario.Release;
        var jobs = release.JobsNamespace;
        await release.InstallAsync();
        var api = await JobsManagerApi.ConnectAsync(release);
        try
        {
            // 1. While the jobs-manager runs: ours is swapped for a stranger's.
            var started = await api.StartTrainerAsync("uid-1", cluster.WorkloadImage, seconds: 900);
            var jti = started["token"]!["jti"]!.GetValue<string>();
            var ours = await cluster.Client.BatchV1.ReadNamespacedJobAsync("uid-1", jobs);
            var strangerUid = await ReplaceWithStrangerAsync(jobs, ours);
            scenario.Report.AppendLine($"uid-1: ours {ours.Metadata.Uid}, the stranger's {strangerUid}");

            await Wait.UntilAsync("the jobs-manager listing uid-1 missing", Limit, async () =>
                (await api.GetAsync("uid-1"))?["state"]?.GetValue<string>() == "missing");
            // Its pods wait for a token Secret that never comes: nothing of ours was written for it.
            Assert.True(await Wait.IsGoneAsync(() => cluster.Client.CoreV1.ReadNamespacedSecretAsync("uid-1-requests-proxy-token", jobs)),
                "a token Secret was written for the stranger's Job");
            var strangerPods = await cluster.Client.CoreV1.ListNamespacedPodAsync(jobs, labelSelector: $"controller-uid={strangerUid}");
            Assert.All(strangerPods.Items, p => Assert.NotEqual("Running", p.Status?.Phase));

            // A DELETE of the job revokes ours; the stranger's Job (another uid) is left where it is.
            var stopped = await api.StopAsync("uid-1");
            Assert.True(stopped["revoked"]!.GetValue<int>() >= 1, stopped.ToJsonString());
            Assert.Contains(jti, await release.RevokedJtisAsync());
            Assert.Equal(strangerUid, (await cluster.Client.BatchV1.ReadNamespacedJobAsync("uid-1", jobs)).Metadata.Uid);
            Assert.Null(await api.GetAsync("uid-1"));

            // 2. While no jobs-manager runs: the restarted one revokes and forgets ours, leaves theirs.
            var second = await api.StartTrainerAsync("uid-2", cluster.WorkloadImage, seconds: 900);
            var secondJti = second["token"]!["jti"]!.GetValue<string>();
            var oursToo = await cluster.Client.BatchV1.ReadNamespacedJobAsync("uid-2", jobs);
            await cluster.KubectlCheckedAsync("-n", release.Namespace, "scale", "deployment", release.JobsManagerName, "--replicas=0");
            await Wait.UntilAsync("no jobs-manager pod", Limit, async () => (await cluster.Client.CoreV1.ListNamespacedPodAsync(release.Namespace,
                labelSelector: $"app.kubernetes.io/instance={release.Name},app.kubernetes.io/component=jobs-manager")).Items.Count == 0);
            var secondStranger = await ReplaceWithStrangerAsync(jobs, oursToo);
            await cluster.KubectlCheckedAsync("-n", release.Namespace, "scale", "deployment", release.JobsManagerName, "--replicas=1");
            await release.WaitForDeploymentAsync(release.JobsManagerName, Limit);
            api.Dispose();
            api = await JobsManagerApi.ConnectAsync(release);
            await Wait.UntilAsync("the restarted jobs-manager revoking uid-2's token", Limit, async () => (await release.RevokedJtisAsync()).Contains(secondJti));
            Assert.Null(await api.GetAsync("uid-2"));
            Assert.Equal(secondStranger, (await cluster.Client.BatchV1.ReadNamespacedJobAsync("uid-2", jobs)).Metadata.Uid);
            Assert.True(await Wait.IsGoneAsync(() => cluster.Client.CoreV1.ReadNamespacedSecretAsync("uid-2-requests-proxy-token", jobs)));
        }
        finally
        {
            api.Dispose();
        }
    });

    /// <summary>
    /// Deletes the Job (its pods and owned token Secret go with it) and creates another of the same
    /// name from its pod template — our labels, our token volume — as cluster-admin; returns its uid.
    /// </summary>
    private async Task<string> ReplaceWithStrangerAsync(string @namespace, V1Job ours)
    {
        var name = ours.Metadata.Name;
        await cluster.KubectlCheckedAsync("-n", @namespace, "delete", "job", name, "--cascade=background", "--wait=true", "--timeout=120s");
        await Wait.UntilAsync($"the Job {name} and its token Secret gone", Limit, async () =>
            await Wait.IsGoneAsync(() => cluster.Client.BatchV1.ReadNamespacedJobAsync(name, @namespace))
            && await Wait.IsGoneAsync(() => cluster.Client.CoreV1.ReadNamespacedSecretAsync($"{name}-requests-proxy-token", @namespace)));

        var template = ours.Spec.Template;
        // The Job controller's own labels name the old uid; the apiserver sets them anew for this Job.
        foreach (var label in new[] { "controller-uid", "job-name" })
        {
            template.Metadata.Labels?.Remove(label);
        }

        var stranger = new V1Job
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = ours.Metadata.Labels, Annotations = ours.Metadata.Annotations },
            Spec = new V1JobSpec { Template = template, BackoffLimit = 0 },
        };
        var created = await cluster.Client.BatchV1.CreateNamespacedJobAsync(stranger, @namespace);
        Assert.NotEqual(ours.Metadata.Uid, created.Metadata.Uid);
        return created.Metadata.Uid;
    }
}
