using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// Training jobs as platforms write them, on the real API server, scheduler and kubelet: a
/// GPU-shaped pod template through the API (cpu/memory requests, a fake <c>example.com/gpu</c>
/// extended resource the node advertises through a status patch, nodeSelector, tolerations, a
/// Memory emptyDir at /dev/shm, a dataset volume, activeDeadlineSeconds); a 3-pod Job sharing one
/// token; and Jobs created by <c>kubectl apply</c> of a plain manifest with the adopt label, whose
/// pods wait for the token Secret, run, post, and whose token is refused once the Job finishes or is
/// deleted — across a restart of the jobs-manager without a second token.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TrainingWorkloadTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string GpuResource = "example.com/gpu";
    private const string AcceleratorLabel = "example.com/accelerator";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan RevokedPoll = TimeSpan.FromSeconds(5);

    [ClusterFact]
    public Task Workloads_RealCluster_GpuTemplateSharedTokenAndAdoptedJobsPostAndAreRevoked() => ClusterScenario.RunAsync(cluster, output, "wl", async scenario =>
    {
        var release = scenario.Release;
        var node = (await cluster.Client.CoreV1.ListNodeAsync()).Items.Single().Metadata.Name;
        var report = scenario.Report;
        try
        {
            await release.InstallAsync("--set", "jobsManager.adopt.enabled=true", "--set", $"requestsProxy.revoked.pollSeconds={RevokedPoll.TotalSeconds}");
            using var api = await JobsManagerApi.ConnectAsync(release);
            await AdvertiseFakeGpuAsync(node);

            await GpuShapedTemplateAsync(api, release, node, report);
            await SharedTokenAsync(api, release, report);
            await AdoptedJobsAsync(api, release, report);
            await RefusedAdoptedJobAsync(release, report);
        }
        finally
        {
            await WithdrawFakeGpuAsync(node);
        }
    });

    /// <summary>A GPU job's template as a platform has it, started through the API with only the token added by the jobs-manager.</summary>
    private async Task GpuShapedTemplateAsync(JobsManagerApi api, ChartRelease release, string node, StringBuilder report)
    {
        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "dataset" },
            Data = new Dictionary<string, string> { ["shard-0.jsonl"] = "{\"x\":1}\n" },
        }, release.JobsNamespace);
        var template = JsonNode.Parse($$$"""
            {
              "metadata": {"labels": {"team": "vision"}},
              "spec": {
                "nodeSelector": {"{{{AcceleratorLabel}}}": "fake-a100"},
                "tolerations": [{"key": "{{{GpuResource}}}", "operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{
                  "name": "trainer", "image": "{{{cluster.WorkloadImage}}}", "imagePullPolicy": "Always", "args": ["trainer"],
                  "env": [{"name": "TRAINER_JOB", "value": "gpu-1"}, {"name": "TRAINER_SECONDS", "value": "3600"},
                          {"name": "TRAINER_REQUIRE_PATHS", "value": "/data/shard-0.jsonl,/dev/shm"}],
                  "resources": {"requests": {"cpu": "100m", "memory": "128Mi", "{{{GpuResource}}}": "1"},
                                "limits": {"memory": "256Mi", "{{{GpuResource}}}": "1"}},
                  "volumeMounts": [{"name": "shm", "mountPath": "/dev/shm"}, {"name": "data", "mountPath": "/data", "readOnly": true}]
                }],
                "volumes": [{"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                            {"name": "data", "configMap": {"name": "dataset"}}]
              }
            }
            """)!;
        var started = await api.StartAsync(new JsonObject { ["name"] = "gpu-1", ["template"] = template, ["activeDeadlineSeconds"] = 1800 });
        Assert.Equal("gpu-1", started["name"]!.GetValue<string>());

        await Wait.UntilAsync("the GPU-shaped job posting through the proxy", Limit, async () =>
            await Workloads.LastTallyAsync(cluster, release.JobsNamespace, "gpu-1") is { Ok: >= 5 });
        var job = await cluster.Client.BatchV1.ReadNamespacedJobAsync("gpu-1", release.JobsNamespace);
        Assert.Equal(1800, job.Spec.ActiveDeadlineSeconds);
        var pod = (await PodsAsync(release, "gpu-1")).Single();
        Assert.Equal(node, pod.Spec.NodeName);
        var trainer = pod.Spec.Containers.Single();
        Assert.Equal("1", trainer.Resources.Limits[GpuResource].ToString());
        Assert.Contains(pod.Spec.Volumes, v => v.Name == "shm" && v.EmptyDir?.Medium == "Memory");
        Assert.Contains(pod.Spec.Volumes, v => v.Secret?.SecretName == "gpu-1-requests-proxy-token");
        Assert.Contains(pod.Spec.Tolerations, t => t.Key == GpuResource);
        Assert.False(pod.Spec.AutomountServiceAccountToken);
        var allocated = (await cluster.Client.CoreV1.ReadNodeAsync(node)).Status.Allocatable[GpuResource].ToString();
        var tally = await Workloads.LastTallyAsync(cluster, release.JobsNamespace, "gpu-1");
        Assert.Equal(0, tally!.Unauthorized);
        report.AppendLine($"gpu-shaped template: pod on {node} ({GpuResource} allocatable {allocated}, 1 requested), /dev/shm Memory + /data mounted, {tally.Ok} posts, 0 × 401");
        await api.StopAsync("gpu-1");
    }

    /// <summary>
    /// Three pods of one Job read the same token file. Kubernetes 1.20 has no Indexed Jobs (alpha in
    /// 1.21): its API server drops <c>completionMode</c>, so this is the same Job as NonIndexed, which
    /// is what matters here — three pods, one Secret, one sub.
    /// </summary>
    private async Task SharedTokenAsync(JobsManagerApi api, ChartRelease release, StringBuilder report)
    {
        var template = JsonNode.Parse($$$"""
            {"spec": {"containers": [{"name": "trainer", "image": "{{{cluster.WorkloadImage}}}", "imagePullPolicy": "Always", "args": ["trainer"],
              "env": [{"name": "TRAINER_JOB", "value": "ddp-3"}, {"name": "TRAINER_SECONDS", "value": "3600"}],
              "resources": {"requests": {"cpu": "20m", "memory": "64Mi"} } }] } }
            """)!;
        var started = await api.StartAsync(new JsonObject
        {
            ["name"] = "ddp-3", ["template"] = template, ["completions"] = 3, ["parallelism"] = 3, ["completionMode"] = "Indexed",
        });
        var jti = started["token"]!["jti"]!.GetValue<string>();

        var posted = new Dictionary<string, long>(StringComparer.Ordinal);
        await Wait.UntilAsync("each of the 3 pods of ddp-3 posting through the proxy", Limit, async () =>
        {
            var pods = await PodsAsync(release, "ddp-3");
            foreach (var p in pods)
            {
                if (await PodTallyAsync(release, p.Metadata.Name) is { } t)
                {
                    posted[p.Metadata.Name] = t.Ok;
                }
            }

            return pods.Count == 3 && pods.All(p => posted.GetValueOrDefault(p.Metadata.Name) >= 3);
        }, TimeSpan.FromSeconds(1));

        var pods = await PodsAsync(release, "ddp-3");
        Assert.All(pods, p => Assert.Contains(p.Spec.Volumes, v => v.Secret?.SecretName == "ddp-3-requests-proxy-token"));
        var subjects = await UpstreamSubjectsAsync(release);
        Assert.True(subjects.GetValueOrDefault("ddp-3") >= posted.Values.Sum(), $"the upstream saw {JsonSerializer.Serialize(subjects)}");
        var view = await api.GetAsync("ddp-3");
        Assert.Equal(jti, view!["token"]!["jti"]!.GetValue<string>());
        Assert.Equal(1, view["tokensIssued"]!.GetValue<int>());
        report.AppendLine($"3 pods, one token: {string.Join(", ", posted.Select(p => $"{p.Key}={p.Value}"))} posts, all as sub ddp-3 at the upstream ({subjects["ddp-3"]}), jti {jti}, 1 token issued");
        await api.StopAsync("ddp-3");
    }

    /// <summary>Jobs of <c>kubectl apply</c> into the job namespace: a plain (Pod Security restricted) manifest plus the label, the Secret volume and the proxy URL.</summary>
    private async Task AdoptedJobsAsync(JobsManagerApi api, ChartRelease release, StringBuilder report)
    {
        var proxyUrl = $"http://{release.ProxyName}.{release.Namespace}.svc:8888";

        // Without the label the jobs-manager ignores it: the pod waits in ContainerCreating for its Secret.
        await ApplyAsync(release, Manifest("adopted-long", seconds: 3600, proxyUrl, labelled: false));
        await Wait.UntilAsync("the unlabelled Job's pod waiting for its token Secret", Limit, async () =>
            (await PodsAsync(release, "adopted-long")).SingleOrDefault() is { } p && IsWaitingForVolume(p));
        await Task.Delay(TimeSpan.FromSeconds(5));
        var waiting = (await PodsAsync(release, "adopted-long")).Single();
        Assert.True(IsWaitingForVolume(waiting), "the pod of an unlabelled Job must not start: nothing gives it a token");
        Assert.Null(await api.GetAsync("adopted-long"));

        // kubectl apply again, now with the label: the watch sees the change and the token arrives.
        var labelledAt = DateTimeOffset.UtcNow;
        await ApplyAsync(release, Manifest("adopted-long", seconds: 3600, proxyUrl, labelled: true) + "---\n" + Manifest("adopted-short", seconds: 20, proxyUrl, labelled: true));
        await Wait.UntilAsync("both adopted Jobs posting through the proxy", Limit, async () =>
            await Workloads.LastTallyAsync(cluster, release.JobsNamespace, "adopted-long") is { Ok: >= 3 }
            && await Workloads.LastTallyAsync(cluster, release.JobsNamespace, "adopted-short") is { Ok: >= 3 });
        var startedAfter = DateTimeOffset.UtcNow - labelledAt;
        var job = await cluster.Client.BatchV1.ReadNamespacedJobAsync("adopted-long", release.JobsNamespace);
        var secret = await cluster.Client.CoreV1.ReadNamespacedSecretAsync("adopted-long-requests-proxy-token", release.JobsNamespace);
        var owner = secret.Metadata.OwnerReferences.Single();
        Assert.Equal(("Job", "adopted-long", job.Metadata.Uid), (owner.Kind, owner.Name, owner.Uid));
        var view = await api.GetAsync("adopted-long");
        Assert.True(view!["adopted"]?.GetValue<bool>() == true, view.ToJsonString());
        var jti = view["token"]!["jti"]!.GetValue<string>();
        var longToken = Encoding.ASCII.GetString(secret.Data["token"]);
        var shortToken = Encoding.ASCII.GetString((await cluster.Client.CoreV1.ReadNamespacedSecretAsync("adopted-short-requests-proxy-token", release.JobsNamespace)).Data["token"]);

        // A restarted jobs-manager restores the adopted Job from its ledger: same token, none minted again.
        await RestartJobsManagerAsync(release);
        using var restarted = await JobsManagerApi.ConnectAsync(release);
        var after = await restarted.GetAsync("adopted-long");
        Assert.True(after is not null, "the restarted jobs-manager forgot the adopted Job");
        Assert.Equal((jti, 1), (after["token"]!["jti"]!.GetValue<string>(), after["tokensIssued"]!.GetValue<int>()));

        // The short Job finishes on its own: its token is revoked, and the proxy refuses it.
        var proxy = await release.ServiceUrlAsync(release.ProxyName);
        await Wait.UntilAsync("adopted-short succeeded and its tokens revoked", Limit, async () =>
            await restarted.GetAsync("adopted-short") is { } s && s["state"]!.GetValue<string>() == "succeeded" && s["tokensRevoked"]!.GetValue<bool>());
        var refusedFinished = await Wait.UntilAsync("the proxy refusing the finished Job's token", Limit, async () =>
            await ProxyProbe.PostAsync(proxy, "adopted-short", shortToken) == (int)HttpStatusCode.Unauthorized);

        // kubectl delete of the long one: its token is revoked at once, the garbage collector takes the Secret.
        Assert.Equal(200, await ProxyProbe.PostAsync(proxy, "adopted-long", longToken));
        await cluster.KubectlCheckedAsync("-n", release.JobsNamespace, "delete", "job", "adopted-long", "--wait=false");
        var refusedDeleted = await Wait.UntilAsync("the proxy refusing the deleted Job's token", Limit, async () =>
            await ProxyProbe.PostAsync(proxy, "adopted-long", longToken) == (int)HttpStatusCode.Unauthorized);
        await Wait.UntilAsync("the deleted Job forgotten and its Secret collected", Limit, async () =>
            await restarted.GetAsync("adopted-long") is null
            && await Wait.IsGoneAsync(() => cluster.Client.CoreV1.ReadNamespacedSecretAsync("adopted-long-requests-proxy-token", release.JobsNamespace)));
        var tally = await Workloads.LastTallyAsync(cluster, release.JobsNamespace, "adopted-short");
        Assert.Equal(0, tally!.Unauthorized);
        report.AppendLine($"adopted (kubectl apply): unlabelled pod waited in ContainerCreating; labelled → both posting {startedAfter.TotalSeconds:0.0} s later; " +
            $"restart kept jti {jti} (1 token); finished Job's token refused {refusedFinished.TotalSeconds:0.0} s after it was revoked, deleted Job's {refusedDeleted.TotalSeconds:0.0} s after kubectl delete");
    }

    /// <summary>
    /// A labelled Job from <c>kubectl apply</c> whose trainer asks for a way out of its container
    /// (<c>allowPrivilegeEscalation: true</c> and <c>SYS_ADMIN</c>; the test cluster's API server runs with
    /// <c>--allow-privileged=false</c>, so <c>privileged: true</c> itself cannot even be created): the jobs-manager gives it no
    /// token (its pod waits for a Secret that never comes), and says why where each audience looks — a
    /// Warning Event on the Job (<c>kubectl describe job</c>) and <c>GET /v1/jobs</c> (state refused).
    /// </summary>
    private async Task RefusedAdoptedJobAsync(ChartRelease release, StringBuilder report)
    {
        var proxyUrl = $"http://{release.ProxyName}.{release.Namespace}.svc:8888";
        var appliedAt = DateTimeOffset.UtcNow;
        await ApplyAsync(release, Manifest("adopted-privileged", seconds: 3600, proxyUrl, labelled: true, privileged: true));

        using var api = await JobsManagerApi.ConnectAsync(release);
        Corev1Event? warning = null;
        var warned = await Wait.UntilAsync("a Warning Event on the privileged Job", Limit, async () =>
        {
            var events = await cluster.Client.CoreV1.ListNamespacedEventAsync(release.JobsNamespace, fieldSelector: "involvedObject.kind=Job,involvedObject.name=adopted-privileged");
            warning = events.Items.FirstOrDefault(e => e.Reason == "RequestsProxyTokenRefused");
            return warning is not null;
        });
        Assert.Equal("Warning", warning!.Type);
        Assert.Contains("'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation' must not be true", warning.Message, StringComparison.Ordinal);
        Assert.Contains("'spec.template.spec.containers[0].securityContext.capabilities.add' SYS_ADMIN is not allowed", warning.Message, StringComparison.Ordinal);
        var describe = await cluster.KubectlCheckedAsync("-n", release.JobsNamespace, "describe", "job", "adopted-privileged");
        Assert.Contains("RequestsProxyTokenRefused", describe, StringComparison.Ordinal);

        JsonNode? view = null;
        await Wait.UntilAsync("GET /v1/jobs listing the privileged Job as refused", Limit, async () =>
            (view = await api.GetAsync("adopted-privileged")) is { } v && v["state"]!.GetValue<string>() == "refused");
        Assert.Contains("securityContext.allowPrivilegeEscalation", view!["problem"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(view["token"] is null, view.ToJsonString());

        // The decision is made (Event and API say so): no token Secret, and the pod still waits for it.
        Assert.True(await Wait.IsGoneAsync(() => cluster.Client.CoreV1.ReadNamespacedSecretAsync("adopted-privileged-requests-proxy-token", release.JobsNamespace)),
            "a token Secret was created for a privileged Job");
        await Wait.UntilAsync("the privileged Job's pod waiting for its token Secret", Limit, async () =>
            (await PodsAsync(release, "adopted-privileged")).SingleOrDefault() is { } p && IsWaitingForVolume(p));
        report.AppendLine($"adopted privileged Job (kubectl apply): no token; Warning Event {warned.TotalSeconds:0.0} s after apply ({(DateTimeOffset.UtcNow - appliedAt).TotalSeconds:0.0} s to check all), " +
            $"GET /v1/jobs state refused: {view["problem"]!.GetValue<string>()}");
        await cluster.KubectlCheckedAsync("-n", release.JobsNamespace, "delete", "job", "adopted-privileged", "--wait=false");
    }

    private static string Manifest(string name, int seconds, string proxyUrl, bool labelled, bool privileged = false) => $$"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {{name}}
        {{(labelled ? "  labels:\n    requests-proxy.io/token: \"true\"" : "  labels: {}")}}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              automountServiceAccountToken: false
              securityContext: {runAsNonRoot: true, runAsUser: 1654, seccompProfile: {type: RuntimeDefault} }
              containers:
              - name: trainer
                image: {{"IMAGE"}}
                imagePullPolicy: Always
                args: [trainer]
                env:
                - {name: TRAINER_JOB, value: {{name}}}
                - {name: TRAINER_SECONDS, value: "{{seconds}}"}
                - {name: REQUESTS_PROXY_URL, value: "{{proxyUrl}}"}
                - {name: REQUESTS_PROXY_TOKEN_FILE, value: /var/run/requests-proxy/token/token}
                resources: {requests: {cpu: 20m, memory: 64Mi} }
                securityContext: {{(privileged ? "{allowPrivilegeEscalation: true, capabilities: {add: [SYS_ADMIN]} }" : "{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]} }")}}
                volumeMounts:
                - {name: requests-proxy-token, mountPath: /var/run/requests-proxy/token, readOnly: true}
              volumes:
              - name: requests-proxy-token
                secret: {secretName: {{name}}-requests-proxy-token}

        """;

    private async Task ApplyAsync(ChartRelease release, string manifest)
    {
        var file = Path.Combine(Path.GetTempPath(), $"rp-adopt-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, manifest.Replace("IMAGE", cluster.WorkloadImage, StringComparison.Ordinal));
        try
        {
            await cluster.KubectlCheckedAsync("-n", release.JobsNamespace, "apply", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Pending with the container still being created: the kubelet waits for the Secret volume.</summary>
    private static bool IsWaitingForVolume(V1Pod pod) =>
        pod.Status?.Phase == "Pending" && pod.Spec.NodeName is not null
        && (pod.Status.ContainerStatuses is null || pod.Status.ContainerStatuses.All(c => c.State?.Waiting?.Reason == "ContainerCreating"));

    private async Task RestartJobsManagerAsync(ChartRelease release)
    {
        var manager = (await cluster.Client.CoreV1.ListNamespacedPodAsync(release.Namespace,
            labelSelector: $"app.kubernetes.io/instance={release.Name},app.kubernetes.io/component=jobs-manager")).Items.Single();
        await cluster.KubectlCheckedAsync("-n", release.Namespace, "delete", "pod", manager.Metadata.Name, "--wait=true", "--timeout=120s");
        await release.WaitForDeploymentAsync(release.JobsManagerName, Limit);
    }

    private async Task<IReadOnlyList<V1Pod>> PodsAsync(ChartRelease release, string job)
    {
        var pods = await cluster.Client.CoreV1.ListNamespacedPodAsync(release.JobsNamespace, labelSelector: $"job-name={job}");
        return [.. pods.Items.Where(p => p.Metadata.DeletionTimestamp is null)];
    }

    private async Task<TrainerTally?> PodTallyAsync(ChartRelease release, string pod)
    {
        var logs = await cluster.KubectlAsync("-n", release.JobsNamespace, "logs", pod, "--tail=30");
        return logs.Succeeded
            ? logs.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("{\"event\":\"tally\"", StringComparison.Ordinal))
                .Select(l => JsonSerializer.Deserialize<TrainerTally>(l, JsonSerializerOptions.Web)).LastOrDefault()
            : null;
    }

    private async Task<Dictionary<string, long>> UpstreamSubjectsAsync(ChartRelease release)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var stats = await http.GetFromJsonAsync<JsonNode>(new Uri(await release.ServiceUrlAsync(Workloads.UpstreamName), "/stats"));
        return stats!["bySubject"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.GetValue<long>(), StringComparer.Ordinal);
    }

    /// <summary>The node advertises 4 of a fake extended resource (a status patch, as for a device without a plugin) and the accelerator label.</summary>
    private async Task AdvertiseFakeGpuAsync(string node)
    {
        var patch = $$$"""[{"op": "add", "path": "/status/capacity/{{{GpuResource.Replace("/", "~1", StringComparison.Ordinal)}}}", "value": "4"}]""";
        await cluster.Client.CoreV1.PatchNodeStatusAsync(new V1Patch(patch, V1Patch.PatchType.JsonPatch), node);
        await cluster.KubectlCheckedAsync("label", "node", node, $"{AcceleratorLabel}=fake-a100", "--overwrite");
        await Wait.UntilAsync($"the node allocating {GpuResource}", Limit, async () =>
            (await cluster.Client.CoreV1.ReadNodeAsync(node)).Status.Allocatable?.ContainsKey(GpuResource) == true);
    }

    private async Task WithdrawFakeGpuAsync(string node)
    {
        try
        {
            var patch = $$$"""[{"op": "remove", "path": "/status/capacity/{{{GpuResource.Replace("/", "~1", StringComparison.Ordinal)}}}"}]""";
            await cluster.Client.CoreV1.PatchNodeStatusAsync(new V1Patch(patch, V1Patch.PatchType.JsonPatch), node);
        }
        catch (HttpOperationException)
        {
        }

        await cluster.KubectlAsync("label", "node", node, $"{AcceleratorLabel}-");
    }
}
