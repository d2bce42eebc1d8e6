using System.Text.Json;
using k8s.Models;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>A client's template becomes the Job: the token and its environment in every container, hardened defaults where the template is silent.</summary>
public sealed class JobTemplateKubernetesTests
{
    private const string Ns = KubernetesHarness.JobsNamespace;

    private const string TwoContainersAndAnInit = """
        {
          "metadata": { "labels": { "team": "vision" }, "annotations": { "note": "ddp" } },
          "spec": {
            "securityContext": { "runAsUser": 1000 },
            "initContainers": [ { "name": "fetch", "image": "fetch:1", "command": ["fetch", "/data"] } ],
            "containers": [
              { "name": "trainer", "image": "ddp:3", "command": ["torchrun"], "env": [ { "name": "EPOCHS", "value": "10" } ],
                "resources": { "limits": { "cpu": "2", "memory": "8Gi", "example.com/gpu": "1" } },
                "volumeMounts": [ { "name": "shm", "mountPath": "/dev/shm" }, { "name": "scratch", "mountPath": "/tmp" } ] },
              { "name": "sidecar", "image": "metrics:1", "securityContext": { "capabilities": { "drop": ["NET_RAW"] } } }
            ],
            "volumes": [ { "name": "shm", "emptyDir": { "medium": "Memory" } }, { "name": "scratch", "emptyDir": {} } ]
          }
        }
        """;

    [Fact]
    public void Job_Template_TokenAndEnvInEveryContainerAndInitContainer_DefaultsFilledExplicitKept()
    {
        var spec = Spec(TwoContainersAndAnInit, parallelism: 3, completions: 3, mode: "Indexed");

        var job = KubernetesObjects.Job(spec, KubernetesHarness.Options());

        Assert.Equal((3, 3, "Indexed", 0), (job.Spec.Parallelism, job.Spec.Completions, job.Spec.CompletionMode, job.Spec.BackoffLimit));
        var pod = job.Spec.Template.Spec;
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.Equal("Never", pod.RestartPolicy);
        Assert.Equal(1000, pod.SecurityContext.RunAsUser);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(KubernetesNames.NonRootUser, pod.SecurityContext.FsGroup);
        Assert.Equal("vision", job.Spec.Template.Metadata.Labels["team"]);
        Assert.Equal("true", job.Spec.Template.Metadata.Labels[KubernetesNames.TrainingJobLabel]);
        Assert.Equal("ddp", job.Spec.Template.Metadata.Annotations["note"]);

        var all = pod.InitContainers.Concat(pod.Containers).ToList();
        Assert.Equal(3, all.Count);
        foreach (var container in all)
        {
            Assert.Equal(["REQUESTS_PROXY_URL", "REQUESTS_PROXY_TOKEN_FILE", "REQUESTS_PROXY_TOKEN"], container.Env.Select(e => e.Name).Where(n => n.StartsWith("REQUESTS_PROXY_", StringComparison.Ordinal)));
            Assert.Equal("ddp-requests-proxy-token", container.Env.Single(e => e.Name == "REQUESTS_PROXY_TOKEN").ValueFrom.SecretKeyRef.Name);
            var mount = Assert.Single(container.VolumeMounts, m => m.Name == KubernetesNames.TokenVolume);
            Assert.Equal((KubernetesNames.TokenMountPath, true), (mount.MountPath, mount.ReadOnlyProperty ?? false));
            Assert.Equal((false, false, true), (container.SecurityContext.AllowPrivilegeEscalation, container.SecurityContext.Privileged, container.SecurityContext.ReadOnlyRootFilesystem));
            Assert.Contains("ALL", container.SecurityContext.Capabilities.Drop);
            Assert.Equal("RuntimeDefault", container.SecurityContext.SeccompProfile.Type);
        }

        var trainer = pod.Containers[0];
        Assert.Equal("10", trainer.Env.Single(e => e.Name == "EPOCHS").Value);
        Assert.Equal("1", trainer.Resources.Limits["example.com/gpu"].ToString());
        Assert.Equal("scratch", Assert.Single(trainer.VolumeMounts, m => m.MountPath == "/tmp").Name);
        Assert.Equal(["NET_RAW", "ALL"], pod.Containers[1].SecurityContext.Capabilities.Drop);
        Assert.Single(pod.Volumes, v => v.Name == KubernetesNames.TokenVolume);
        Assert.Single(pod.Volumes, v => v.Name == KubernetesNames.TmpVolume);
        Assert.Equal(["shm", "scratch", KubernetesNames.TokenVolume, KubernetesNames.TmpVolume], pod.Volumes.Select(v => v.Name));
    }

    [Fact]
    public void Job_RootAllowedByPolicy_NoRunAsNonRootForced()
    {
        var template = """{"spec":{"securityContext":{"runAsUser":0},"containers":[{"name":"cuda","image":"cuda:12","command":["python"]}]}}""";
        var (spec, errors) = StartJobRequestValidator.Validate(
            new StartJobRequest("gpu", null, null, null, null, null, Template: Element(template)), "results:write", [Ns], new PodPolicy(AllowRunAsRoot: true));
        Assert.Empty(errors);

        var pod = KubernetesObjects.Job(spec!, KubernetesHarness.Options()).Spec.Template.Spec;

        Assert.Equal(0, pod.SecurityContext.RunAsUser);
        Assert.Null(pod.SecurityContext.RunAsNonRoot);
        Assert.Null(pod.Containers[0].SecurityContext.RunAsNonRoot);
        Assert.Equal(KubernetesNames.NonRootUser, pod.SecurityContext.FsGroup);
    }

    [Fact]
    public async Task Start_IndexedTemplateOfThreePods_OneJobAndOneTokenSecretSharedByAllPods()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var spec = Spec(TwoContainersAndAnInit, parallelism: 3, completions: 3, mode: "Indexed");

        var result = await k.Core.Manager.StartAsync(spec, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var job = k.Fake.Find<V1Job>(Ns, "ddp")!;
        Assert.Equal((3, 3, "Indexed"), (job.Spec.Parallelism, job.Spec.Completions, job.Spec.CompletionMode));
        Assert.Single(k.Fake.Requests, r => r is { Verb: "create", Resource: "secrets" } && !r.QueryString.Contains("dryRun", StringComparison.Ordinal));
        Assert.NotNull(k.Fake.Find<V1Secret>(Ns, "ddp-requests-proxy-token"));
        Assert.All(job.Spec.Template.Spec.Volumes.Where(v => v.Secret is not null), v => Assert.Equal("ddp-requests-proxy-token", v.Secret.SecretName));
        Assert.Equal(1, result.Value!.TokensIssued);
        Assert.Equal("ddp:3", result.Value.Image);
    }

    private static JobSpec Spec(string template, int? parallelism = null, int? completions = null, string? mode = null)
    {
        var (spec, errors) = StartJobRequestValidator.Validate(
            new StartJobRequest("ddp", null, null, null, null, null, Template: Element(template), Parallelism: parallelism, Completions: completions, CompletionMode: mode),
            "results:write", [Ns], PodPolicy.Strict);
        Assert.Empty(errors);
        return spec!;
    }

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
