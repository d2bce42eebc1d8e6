using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>
/// Hostile templates as JSON start requests against the whole app (Kubernetes runtime, fake API
/// server, jobs in the jobs-manager's own namespace as the chart deploys it by default): each way
/// from the training pod to a credential, to another job's traffic or to the node is a 400 naming
/// the field, and no Job reaches the API server.
/// </summary>
public sealed class JobTemplateAttackTests
{
    private const string Ns = KubernetesHarness.Namespace;

    [Theory]
    // Ways to the node or past the NetworkPolicy: node-mounted volumes, unconfined LSMs, host processes, the scheduler bypassed, node-side probes.
    [InlineData("""{"volumes":[{"name":"k","nfs":{"server":"203.0.113.1","path":"/"}}]}""", "'template.spec.volumes[0].nfs' is not allowed")]
    [InlineData("""{"volumes":[{"name":"k","gitRepo":{"repository":"https://evil.example/x"}}]}""", "'template.spec.volumes[0].gitRepo' is not allowed")]
    [InlineData("""{"volumes":[{"name":"k","gcePersistentDisk":{"pdName":"other-tenant"}}]}""", "'template.spec.volumes[0].gcePersistentDisk' is not allowed")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"windowsOptions":{"hostProcess":true}}}]}""", "'template.spec.containers[0].securityContext.windowsOptions.hostProcess'")]
    [InlineData("""{"securityContext":{"seLinuxOptions":{"type":"spc_t"}}}""", "'template.spec.securityContext.seLinuxOptions'")]
    [InlineData("""{"initContainers":[{"name":"x","image":"i","securityContext":{"appArmorProfile":{"type":"Unconfined"}}}]}""", "'template.spec.initContainers[0].securityContext.appArmorProfile.type'")]
    [InlineData("""{"securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"1"}]}}""", "'template.spec.securityContext.sysctls[0].name' 'kernel.msgmax'")]
    [InlineData("""{"nodeName":"control-plane"}""", "'template.spec.nodeName'")]
    [InlineData("""{"tolerations":[{"operator":"Exists"}]}""", "'template.spec.tolerations[0]' has no key")]
    [InlineData("""{"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}]}""", "'template.spec.tolerations[0].key' 'node-role.kubernetes.io/control-plane'")]
    [InlineData("""{"nodeSelector":{"node-role.kubernetes.io/control-plane":""}}""", "'template.spec.nodeSelector.node-role.kubernetes.io/control-plane'")]
    [InlineData("""{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"node-role.kubernetes.io/master","operator":"Exists"}]}]}}}}""", "'template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key'")]
    [InlineData("""{"priorityClassName":"system-node-critical"}""", "'template.spec.priorityClassName' 'system-node-critical'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","livenessProbe":{"httpGet":{"host":"169.254.169.254","path":"/","port":80}}}]}""", "'template.spec.containers[0].livenessProbe.httpGet.host'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","lifecycle":{"preStop":{"tcpSocket":{"host":"10.96.0.1","port":443}}}}]}""", "'template.spec.containers[0].lifecycle.preStop.tcpSocket.host'")]
    public async Task Start_TemplateReachingTheNode_400NamingTheFieldAndNoJob(string podSpecPatch, string expected)
    {
        await using var app = await AppAsync();

        using var response = await app.Host.Client.PostAsync("/v1/jobs", Body(podSpecPatch));

        await AssertRefusedAsync(app, response, expected);
    }

    [Fact]
    public async Task Start_UnconfinedAppArmorAnnotation_400NamingIt()
    {
        await using var app = await AppAsync();
        var template = JsonNode.Parse("""{"metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/c":"unconfined"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}}""");

        using var response = await app.Host.Client.PostAsync("/v1/jobs", Json(new JsonObject { ["name"] = "evil", ["template"] = template }));

        await AssertRefusedAsync(app, response, "'template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/c'");
    }

    [Theory]
    // The kubelet mounts any Secret of the pod's namespace: the signing keys, the admin token, another job's token.
    [InlineData("""{"volumes":[{"name":"k","secret":{"secretName":"rel-requests-proxy-keys"}}]}""", "'template.spec.volumes[0].secret.secretName' 'rel-requests-proxy-keys'")]
    [InlineData("""{"volumes":[{"name":"k","secret":{"secretName":"other-job-requests-proxy-token"}}]}""", "'template.spec.volumes[0].secret.secretName' 'other-job-requests-proxy-token' is a job's token Secret")]
    [InlineData("""{"volumes":[{"name":"k","projected":{"sources":[{"secret":{"name":"rel-requests-proxy-admin"}}]}}]}""", "'template.spec.volumes[0].projected.sources[0].secret.name' 'rel-requests-proxy-admin'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","env":[{"name":"K","valueFrom":{"secretKeyRef":{"name":"rel-requests-proxy-keys","key":"v1"}}}]}]}""", "'template.spec.containers[0].env[0].valueFrom.secretKeyRef.name'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","envFrom":[{"secretRef":{"name":"rel-requests-proxy-upstream-credential"}}]}]}""", "'template.spec.containers[0].envFrom[0].secretRef.name'")]
    [InlineData("""{"initContainers":[{"name":"x","image":"i","envFrom":[{"secretRef":{"name":"a-requests-proxy-token"}}]}]}""", "'template.spec.initContainers[0].envFrom[0].secretRef.name' 'a-requests-proxy-token' is a job's token Secret")]
    public async Task Start_TemplateNamingASecret_400NamingTheFieldAndNoJob(string podSpecPatch, string expected)
    {
        await using var app = await AppAsync();

        using var response = await app.Host.Client.PostAsync("/v1/jobs", Body(podSpecPatch));

        await AssertRefusedAsync(app, response, expected);
    }

    [Theory]
    // The proxy Service, its pods Service (legacy registration posts the admin token to every pod),
    // the jobs-manager Service and the NetworkPolicy's way to the proxy all select on this label.
    [InlineData("""{"app.kubernetes.io/name":"requests-proxy","app.kubernetes.io/instance":"rel","app.kubernetes.io/component":"proxy"}""")]
    [InlineData("""{"app.kubernetes.io/name":"requests-proxy","app.kubernetes.io/instance":"rel","app.kubernetes.io/component":"jobs-manager"}""")]
    [InlineData("""{"app.kubernetes.io/name":"requests-proxy"}""")]
    public async Task Start_TemplateLabelledAsTheProxy_400NamingTheLabelAndNoJob(string labels)
    {
        await using var app = await AppAsync();
        var template = JsonNode.Parse("""{"spec":{"containers":[{"name":"c","image":"i:1","ports":[{"name":"http","containerPort":8888}]}]}}""")!.AsObject();
        template["metadata"] = new JsonObject { ["labels"] = JsonNode.Parse(labels) };

        using var response = await app.Host.Client.PostAsync("/v1/jobs", Json(new JsonObject { ["name"] = "evil", ["template"] = template }));

        await AssertRefusedAsync(app, response, "'template.metadata.labels.app.kubernetes.io/name' 'requests-proxy' is reserved");
    }

    [Fact]
    public void Validate_SecretInAJobNamespaceOfItsOwn_Accepted_AnotherJobsTokenStillRefused()
    {
        var template = """{"spec":{"containers":[{"name":"c","image":"i","envFrom":[{"secretRef":{"name":"wandb"}}]}],"volumes":[{"name":"hf","secret":{"secretName":"hf-token"}}]}}""";
        var stolen = """{"spec":{"containers":[{"name":"c","image":"i"}],"volumes":[{"name":"t","secret":{"secretName":"b-requests-proxy-token"}}]}}""";

        var (spec, errors) = StartJobRequestValidator.Validate(Request(template, "jobs"), "s", ["jobs"], PodPolicy.Strict, ownNamespace: "rp");
        var (_, inRelease) = StartJobRequestValidator.Validate(Request(template, "rp"), "s", ["jobs", "rp"], PodPolicy.Strict, ownNamespace: "rp");
        var (_, token) = StartJobRequestValidator.Validate(Request(stolen, "jobs"), "s", ["jobs"], PodPolicy.Strict, ownNamespace: "rp");

        Assert.Empty(errors);
        Assert.Equal("jobs", spec!.Namespace);
        Assert.Equal(2, inRelease.Count);
        Assert.Contains("'template.spec.volumes[0].secret.secretName' 'b-requests-proxy-token' is a job's token Secret", Assert.Single(token), StringComparison.Ordinal);
    }

    private static StartJobRequest Request(string template, string ns) =>
        new("j", null, null, null, null, null, Template: JsonDocument.Parse(template).RootElement.Clone(), Namespace: ns);

    private static async Task AssertRefusedAsync(App app, HttpResponseMessage response, string expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        var message = JsonDocument.Parse(body).RootElement.GetProperty("message").GetString()!;
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Null(app.Fake.Find<V1Job>(Ns, "evil"));
    }

    private static StringContent Body(string podSpecPatch)
    {
        var spec = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "c", ["image"] = "i:1" }) };
        foreach (var (key, value) in JsonNode.Parse(podSpecPatch)!.AsObject())
        {
            spec[key] = value?.DeepClone();
        }

        return Json(new JsonObject { ["name"] = "evil", ["template"] = new JsonObject { ["spec"] = spec } });
    }

    private static StringContent Json(JsonObject request) => new(request.ToJsonString(), Encoding.UTF8, "application/json");

    private sealed record App(FakeKubernetesApiServer Fake, ApiHost Host) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await Fake.DisposeAsync();
        }
    }

    private static async Task<App> AppAsync()
    {
        var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Ns, KubernetesHarness.RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = "[]" });
        fake.SeedConfigMap(Ns, KubernetesHarness.StateConfigMap, new Dictionary<string, string> { ["jobs.json"] = KubernetesHarness.EmptyLedger });
        fake.RbacRules = KubernetesHarness.ChartRules();
        var host = await ApiHost.StartAsync(
            configure: o =>
            {
                o.Runtime = JobRuntimeKind.Kubernetes;
                o.Namespace = Ns;
                o.ReleaseName = KubernetesHarness.Release;
                o.RevokedConfigMapName = KubernetesHarness.RevokedConfigMap;
                o.StateConfigMapName = KubernetesHarness.StateConfigMap;
            },
            configureBuilder: b =>
            {
                var kubeconfig = fake.WriteKubeconfig(Path.Combine(Path.GetTempPath(), "rp-jm-kubeconfig-" + Guid.NewGuid().ToString("N")), Ns);
                b.Services.AddSingleton<IKubernetes>(new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)));
            });
        return new App(fake, host);
    }
}
