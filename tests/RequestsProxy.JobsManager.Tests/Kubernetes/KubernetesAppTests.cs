using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>The whole app with JOBS_MANAGER_RUNTIME=kubernetes, its client built from a kubeconfig generated for the FAKE API server.</summary>
public sealed class KubernetesAppTests
{
    [Fact]
    public async Task Api_KubernetesRuntime_StartListStopThroughKubeconfig()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(KubernetesHarness.Namespace, KubernetesHarness.RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        fake.SeedConfigMap(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap, new Dictionary<string, string> { ["jobs.json"] = KubernetesHarness.EmptyLedger });
        fake.SeedConfigMap(KubernetesHarness.Namespace, KubernetesHarness.LegacyTokensConfigMap, new Dictionary<string, string> { ["legacy-tokens.json"] = "[]" });
        fake.RbacRules = KubernetesHarness.ChartRules();
        await using var host = await ApiHost.StartAsync(
            configure: KubernetesHarness.AppOptions,
            configureBuilder: b =>
            {
                var kubeconfig = fake.WriteKubeconfig(Path.Combine(Path.GetTempPath(), "rp-jm-kubeconfig-" + Guid.NewGuid().ToString("N")), KubernetesHarness.Namespace);
                b.Services.AddSingleton<IKubernetes>(new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)));
            });

        // An existing list without the issuing marker (an older jobs-manager's) gets this mode's before the API answers.
        var legacyList = fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.LegacyTokensConfigMap)!;
        Assert.Equal(("closed", "[]"), (legacyList.Data["issuing"].Trim(), legacyList.Data["legacy-tokens.json"].Trim()));

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", image = "registry.example/trainer:1", command = new[] { "python", "train.py" }, args = new[] { "--epochs", "3" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("/var/run/requests-proxy/token/token", job.GetProperty("tokenFile").GetString());
        var stored = fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1")!;
        Assert.Equal(["python", "train.py"], stored.Spec.Template.Spec.Containers[0].Command);
        Assert.Equal(["--epochs", "3"], stored.Spec.Template.Spec.Containers[0].Args);

        using var noImage = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-2", command = new[] { "/bin/true" } });
        Assert.Equal(HttpStatusCode.BadRequest, noImage.StatusCode);

        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Null(fake.Find<V1Job>(KubernetesHarness.JobsNamespace, "job-1"));
        Assert.Contains(job.GetProperty("token").GetProperty("jti").GetString()!, fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.RevokedConfigMap)!.Data["revoked.json"], StringComparison.Ordinal);
        Assert.DoesNotContain(fake.Requests, r => r.StatusCode == 403);
    }
}
