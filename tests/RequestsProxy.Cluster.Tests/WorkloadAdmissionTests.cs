using System.Diagnostics;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// The workload admission rules against the real apiserver (on this cluster's Kubernetes the proxy pods' webhook):
/// with the jobs-manager service account's own token, a Job reading the namespace's <c>default-token-*</c>, a Job
/// projecting a service-account token and a ConfigMap other than its stores are refused; a pod a user (the
/// cluster-admin) creates naming a job's token Secret is refused; and a start through the jobs-manager's API still
/// runs its Job to completion, its pod created by the Job controller through the same webhook. Both clusterScope modes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WorkloadAdmissionTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [ClusterFact]
    public Task JobsManagerToken_NamespaceScope_WorkloadEscapesForbiddenOwnJobsRun() => TryAsync(clusterScope: false);

    [ClusterFact]
    public Task JobsManagerToken_ClusterScope_WorkloadEscapesForbiddenOwnJobsRun() => TryAsync(clusterScope: true);

    private Task TryAsync(bool clusterScope) => ClusterScenario.RunAsync(cluster, output, $"wla-{(clusterScope ? "cs" : "ns")}", async scenario =>
    {
        var release = scenario.Release;
        var admin = cluster.Client;
        var jobs = release.JobsNamespace;

        // Kubernetes 1.20 has no kubernetes.io/metadata.name: the ConfigMap webhook selects the release namespace by this label (NOTES).
        await admin.CoreV1.PatchNamespaceAsync(new V1Patch(
            $"{{\"metadata\":{{\"labels\":{{\"{release.Namespace}.release.requests-proxy.io/{release.Name}\":\"true\"}}}}}}", V1Patch.PatchType.MergePatch), release.Namespace);
        await release.InstallAsync("--set", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}");
        var api = await JobsManagerApi.ConnectAsync(release);
        try
        {
            // The product's own path first: a start runs to completion (Job created by the jobs-manager through the Job
            // rule, its Secret through the Secret rule, its pod by the Job controller through the Pod rule).
            var watch = Stopwatch.StartNew();
            await api.StartTrainerAsync("own-1", cluster.WorkloadImage, seconds: 5);
            await Wait.UntilAsync("Job own-1 complete", Limit, async () =>
                (await admin.BatchV1.ReadNamespacedJobAsync("own-1", jobs)).Status?.Succeeded >= 1);
            output.WriteLine($"own-1: started and complete in {watch.Elapsed.TotalSeconds:F1} s");

            var defaultToken = await ServiceAccountTokens.SecretNameAsync(cluster, jobs, "default", Limit);
            using var jobsManager = await ServiceAccountTokens.ClientAsAsync(cluster, release.Namespace, release.JobsManagerName, Limit);
            var failures = new List<string>();

            // A Job as a Secret reader: the namespace's default-token-* mounted (the 1.20 token controller's Secret).
            await ExpectRefusedAsync(failures, $"Job mounting {defaultToken}", "job-reads-its-token-secret-only", () => jobsManager.BatchV1.CreateNamespacedJobAsync(
                Job("steal-sa", new V1Volume { Name = "sa", Secret = new V1SecretVolumeSource { SecretName = defaultToken } }), jobs));

            // Another job's token Secret, as env.
            var envThief = Job("steal-env");
            envThief.Spec.Template.Spec.Containers[0].Env = [new V1EnvVar { Name = "T", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "own-1-requests-proxy-token", Key = "token" } } }];
            await ExpectRefusedAsync(failures, "Job reading own-1's token as env", "job-reads-its-token-secret-only", () => jobsManager.BatchV1.CreateNamespacedJobAsync(envThief, jobs));

            // A projected service-account token.
            await ExpectRefusedAsync(failures, "Job projecting a serviceAccountToken", "job-gets-no-api-credential", () => jobsManager.BatchV1.CreateNamespacedJobAsync(
                Job("steal-projected", new V1Volume
                {
                    Name = "t",
                    Projected = new V1ProjectedVolumeSource { Sources = [new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token" } }] },
                }), jobs));

            // The node's credentials.
            await ExpectRefusedAsync(failures, "Job mounting hostPath /var/lib/kubelet", "job-shares-nothing-with-its-node", () => jobsManager.BatchV1.CreateNamespacedJobAsync(
                Job("steal-node", new V1Volume { Name = "node", HostPath = new V1HostPathVolumeSource { Path = "/var/lib/kubelet" } }), jobs));

            // Another job's token in a pod someone else creates: here the cluster-admin, with kubectl's rights.
            await ExpectRefusedAsync(failures, "Pod by the cluster-admin mounting own-1's token Secret", "token-secret-in-its-jobs-pods-only", () => admin.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "impostor" },
                Spec = new V1PodSpec
                {
                    AutomountServiceAccountToken = false,
                    Containers = [new V1Container { Name = "x", Image = cluster.WorkloadImage, VolumeMounts = [new V1VolumeMount { Name = "t", MountPath = "/var/run/requests-proxy/token" }] }],
                    Volumes = [new V1Volume { Name = "t", Secret = new V1SecretVolumeSource { SecretName = "own-1-requests-proxy-token" } }],
                },
            }, jobs));

            // A pod that names no token Secret is none of this rule's business.
            var plain = await admin.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "plain" },
                Spec = new V1PodSpec { AutomountServiceAccountToken = false, Containers = [new V1Container { Name = "x", Image = cluster.WorkloadImage }] },
            }, jobs, dryRun: "All");
            output.WriteLine($"Pod by the cluster-admin naming no token Secret (dry run): created {plain.Metadata.Name}");

            // A ConfigMap other than the jobs-manager's stores, in its own namespace.
            await ExpectRefusedAsync(failures, $"ConfigMap {release.Namespace}/not-a-store", "create-store-configmaps-only", () => jobsManager.CoreV1.CreateNamespacedConfigMapAsync(
                new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "not-a-store" }, Data = new Dictionary<string, string> { ["x"] = "y" } }, release.Namespace));

            // A store name passes the rule and meets the existing object (409), so the jobs-manager's own creates still work.
            var store = await StatusOfAsync(() => jobsManager.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = release.StateConfigMapName } }, release.Namespace));
            output.WriteLine($"ConfigMap {release.Namespace}/{release.StateConfigMapName} (a store; it exists): {store}");
            if (!store.StartsWith("409", StringComparison.Ordinal))
            {
                failures.Add($"creating the existing store ConfigMap {release.StateConfigMapName}: {store}, expected 409 (allowed by the rule, refused as a duplicate)");
            }

            // And the product's own path once more after the refusals: a second start runs.
            await api.StartTrainerAsync("own-2", cluster.WorkloadImage, seconds: 5);
            await Wait.UntilAsync("Job own-2 complete", Limit, async () =>
                (await admin.BatchV1.ReadNamespacedJobAsync("own-2", jobs)).Status?.Succeeded >= 1);

            if (!clusterScope)
            {
                // The chart's Service (not-ready addresses published), then with ready pods only, for comparison.
                await MeasureOutageAsync(release, "publishNotReadyAddresses: true");
                await admin.CoreV1.PatchNamespacedServiceAsync(new V1Patch("{\"spec\":{\"publishNotReadyAddresses\":false}}", V1Patch.PatchType.MergePatch),
                    $"{release.Name}-requests-proxy-webhook", release.Namespace);
                await MeasureOutageAsync(release, "publishNotReadyAddresses: false");
            }

            Assert.True(failures.Count == 0, $"{failures.Count} steps were not refused as expected:\n{string.Join('\n', failures)}");
        }
        finally
        {
            api.Dispose();
        }
    });

    /// <summary>
    /// What a restart of every proxy pod costs the pod webhook (every pod create in the job namespaces waits on it):
    /// both pods deleted at once (SIGTERM, the default grace), a dry-run pod create every 200 ms until it is admitted
    /// again after failing; the window is reported.
    /// </summary>
    private async Task MeasureOutageAsync(ChartRelease release, string service)
    {
        var probe = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "outage-probe" },
            Spec = new V1PodSpec { AutomountServiceAccountToken = false, Containers = [new V1Container { Name = "x", Image = cluster.WorkloadImage }] },
        };
        var pods = (await release.ProxyPodsAsync()).Select(p => p.Metadata.Name).ToArray();
        var watch = Stopwatch.StartNew();
        await cluster.KubectlCheckedAsync(["-n", release.Namespace, "delete", "pod", "--wait=false", .. pods]);
        TimeSpan? firstRefusal = null, back = null;
        var refused = 0;
        string? why = null;
        while (watch.Elapsed < Limit && back is null)
        {
            try
            {
                await cluster.Client.CoreV1.CreateNamespacedPodAsync(probe, release.JobsNamespace, dryRun: "All");
                if (firstRefusal is not null || watch.Elapsed > TimeSpan.FromSeconds(60))
                {
                    back = watch.Elapsed;
                }
            }
            catch (HttpOperationException e)
            {
                refused++;
                firstRefusal ??= watch.Elapsed;
                why ??= e.Response.Content;
            }

            await Task.Delay(200);
        }

        Assert.NotNull(back);
        await release.WaitForReadyProxiesAsync(p => !pods.Contains(p.Metadata.Name), "two Ready proxy pods after the outage", Limit);
        var ready = watch.Elapsed;
        output.WriteLine(firstRefusal is null
            ? $"outage ({service}): both proxy pods deleted; no pod create refused in {back!.Value.TotalSeconds:F1} s; two new pods Ready at {ready.TotalSeconds:F1} s"
            : $"outage ({service}): both proxy pods deleted at 0 s; pod creates refused from {firstRefusal.Value.TotalSeconds:F1} s to {back!.Value.TotalSeconds:F1} s " +
              $"({refused} refused probes, one every 200 ms after the last answer); two new pods Ready at {ready.TotalSeconds:F1} s; first refusal: {why?[..Math.Min(why.Length, 300)]}");
    }

    /// <summary>A Job as the jobs-manager would send one (automount false, its labels left out), plus the given volume.</summary>
    private V1Job Job(string name, V1Volume? volume = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1JobSpec
        {
            BackoffLimit = 0,
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    RestartPolicy = "Never",
                    AutomountServiceAccountToken = false,
                    Containers = [new V1Container { Name = "x", Image = cluster.WorkloadImage, VolumeMounts = volume is null ? null : [new V1VolumeMount { Name = volume.Name, MountPath = "/stolen" }] }],
                    Volumes = volume is null ? null : [volume],
                },
            },
        },
    };

    private async Task ExpectRefusedAsync<T>(List<string> failures, string step, string rule, Func<Task<T>> call)
    {
        var status = await StatusOfAsync(call);
        output.WriteLine($"{step}: {status}");
        if (!status.StartsWith("403", StringComparison.Ordinal) || !status.Contains(rule, StringComparison.Ordinal))
        {
            failures.Add($"{step}: {status}, expected 403 naming rule {rule}");
        }
    }

    private static async Task<string> StatusOfAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return "201 Created";
        }
        catch (HttpOperationException e)
        {
            return $"{(int)e.Response.StatusCode} {e.Response.Content}";
        }
    }
}
