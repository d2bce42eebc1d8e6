using System.Text.Json.Nodes;
using RequestsProxy.Server.Admission;
using RequestsProxy.Server.Hosting;
using static RequestsProxy.Server.Tests.Admission.WorkloadReviews;

namespace RequestsProxy.Server.Tests.Admission;

public sealed class PodAdmissionPolicyTests
{
    private static readonly PodAdmissionPolicy Policy = new(new ProxySettings().AdmissionJobControllerUsers.ToHashSet());

    private static AdmissionDecision Create(JsonObject pod, string user = JobController) => Policy.Decide(Review("", "pods", "CREATE", user, pod));

    [Theory]
    [InlineData(JobController)]
    [InlineData("system:kube-controller-manager")]
    public void Decide_ThePodOfTheJobsManagersJob_AllowedFromTheJobController(string user)
    {
        var decision = Create(PodOf(EmittedJob()), user);

        Assert.True(decision.Allowed, decision.Message);
        Assert.Equal(PodAdmissionPolicy.OwnJobRule, decision.Rule);
    }

    [Fact]
    public void Decide_ThePodOfAnAdoptedJob_Allowed()
    {
        // Adopt mode: a tool's Job mounts the documented <job>-requests-proxy-token itself (docs/jobs-manager.md).
        var adopted = JsonNode.Parse("""
            {"metadata":{"name":"kueue-run","labels":{"requests-proxy.io/token":"true"}},
             "spec":{"template":{"metadata":{},"spec":{"automountServiceAccountToken":false,"restartPolicy":"Never",
               "volumes":[{"name":"token","projected":{"sources":[{"secret":{"name":"kueue-run-requests-proxy-token"}}]}}],
               "containers":[{"name":"t","image":"x","volumeMounts":[{"name":"token","mountPath":"/var/run/requests-proxy/token"}]}]}}}}
            """)!.AsObject();

        Assert.True(Create(PodOf(adopted)).Allowed);
    }

    [Theory]
    [InlineData("kubernetes-admin")]
    [InlineData("system:serviceaccount:ml:rp-jobs-manager")]
    [InlineData("system:serviceaccount:kube-system:replicaset-controller")]
    public void Decide_APodNamingATokenSecretFromAnyoneElse_Denied(string user)
    {
        var pod = PodOf(EmittedJob());

        AssertDenied(Create(pod, user), PodAdmissionPolicy.OwnJobRule, "names token Secret 'job-1-requests-proxy-token'", $"created by '{user}', not by the Job controller");
    }

    [Fact]
    public void Decide_AJobsPodNamingAnotherJobsToken_Denied()
    {
        var job = EmittedJob("thief");
        PodSpec(job)["volumes"]!.AsArray().Add(new JsonObject { ["name"] = "v", ["secret"] = new JsonObject { ["secretName"] = "job-1-requests-proxy-token" } });

        AssertDenied(Create(PodOf(job)), PodAdmissionPolicy.OwnJobRule, "of Job 'thief' names 'job-1-requests-proxy-token' at 'spec.volumes[2].secret.secretName'", "may name only 'thief-requests-proxy-token'");
    }

    [Fact]
    public void Decide_PodOwnedByAnotherJobName_Denied() =>
        AssertDenied(Create(PodOf(EmittedJob(), ownerName: "job-2")), PodAdmissionPolicy.OwnJobRule, "names 'job-1-requests-proxy-token'");

    [Theory]
    [InlineData("""[{"apiVersion":"batch/v1","kind":"Job","name":"job-1","uid":"u","controller":false}]""")]
    [InlineData("""[{"apiVersion":"batch/v1","kind":"Job","name":"job-1","uid":"u"}]""")]
    [InlineData("""[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"job-1","uid":"u","controller":true}]""")]
    [InlineData("""[]""")]
    public void Decide_NotControlledByAJob_Denied(string owners)
    {
        var pod = PodOf(EmittedJob());
        pod["metadata"]!["ownerReferences"] = JsonNode.Parse(owners);

        AssertDenied(Create(pod), PodAdmissionPolicy.OwnJobRule, "no Job controls it");
    }

    [Theory]
    [InlineData("""{"volumes":[{"name":"v","secret":{"secretName":"job-1-requests-proxy-token"}}],"containers":[{"name":"c","image":"x"}]}""", "spec.volumes[0].secret.secretName")]
    [InlineData("""{"volumes":[{"name":"v","projected":{"sources":[{"secret":{"name":"job-1-requests-proxy-token"}}]}}],"containers":[{"name":"c","image":"x"}]}""", "spec.volumes[0].projected.sources[0].secret.name")]
    [InlineData("""{"containers":[{"name":"c","image":"x","env":[{"name":"T","valueFrom":{"secretKeyRef":{"name":"job-1-requests-proxy-token","key":"token"}}}]}]}""", "spec.containers[0].env[0].valueFrom.secretKeyRef.name")]
    [InlineData("""{"initContainers":[{"name":"i","image":"x","envFrom":[{"secretRef":{"name":"job-1-requests-proxy-token"}}]}],"containers":[{"name":"c","image":"x"}]}""", "spec.initContainers[0].envFrom[0].secretRef.name")]
    [InlineData("""{"imagePullSecrets":[{"name":"job-1-requests-proxy-token"}],"containers":[{"name":"c","image":"x"}]}""", "spec.imagePullSecrets[0].name")]
    [InlineData("""{"volumes":[{"name":"v","csi":{"driver":"d","nodePublishSecretRef":{"name":"job-1-requests-proxy-token"}}}],"containers":[{"name":"c","image":"x"}]}""", "spec.volumes[0].csi.nodePublishSecretRef.name")]
    public void Decide_AUsersPodNamingATokenSecretInAnyForm_DeniedNamingTheField(string spec, string field)
    {
        var pod = new JsonObject { ["metadata"] = new JsonObject { ["name"] = "sneaky" }, ["spec"] = JsonNode.Parse(spec) };

        AssertDenied(Create(pod, "kubernetes-admin"), PodAdmissionPolicy.OwnJobRule, $"at '{field}'", "Pod ml-jobs/sneaky");
    }

    [Fact]
    public void Decide_APodNamingNoTokenSecret_AllowedFromAnyone()
    {
        var pod = JsonNode.Parse("""{"metadata":{"name":"debug"},"spec":{"volumes":[{"name":"v","secret":{"secretName":"registry"}}],"containers":[{"name":"c","image":"x"}]}}""")!.AsObject();

        var decision = Create(pod, "kubernetes-admin");

        Assert.True(decision.Allowed);
        Assert.Equal(PodAdmissionPolicy.NoTokenSecret, decision.Rule);
    }

    [Fact]
    public void Decide_EphemeralContainerNamingATokenSecret_Denied()
    {
        var pod = PodOf(EmittedJob());
        pod["spec"]!["ephemeralContainers"] = JsonNode.Parse("""[{"name":"debug","image":"x","env":[{"name":"T","valueFrom":{"secretKeyRef":{"name":"job-2-requests-proxy-token","key":"token"}}}]}]""");

        var decision = Policy.Decide(Review("", "pods", "UPDATE", "kubernetes-admin", pod, subResource: "ephemeralcontainers"));

        AssertDenied(decision, PodAdmissionPolicy.EphemeralRule, "'spec.ephemeralContainers[0].env[0].valueFrom.secretKeyRef.name' names token Secret 'job-2-requests-proxy-token'");
    }

    [Fact]
    public void Decide_EphemeralContainerWithoutTokens_Allowed()
    {
        var pod = PodOf(EmittedJob());
        pod["spec"]!["ephemeralContainers"] = JsonNode.Parse("""[{"name":"debug","image":"x"}]""");

        Assert.True(Policy.Decide(Review("", "pods", "UPDATE", "kubernetes-admin", pod, subResource: "ephemeralcontainers")).Allowed);
    }

    [Theory]
    [InlineData("UPDATE", null)]
    [InlineData("UPDATE", "status")]
    [InlineData("DELETE", null)]
    [InlineData("CREATE", "binding")]
    public void Decide_OtherOperations_NotJudged(string operation, string? subResource) =>
        Assert.True(Policy.Decide(Review("", "pods", operation, "kubernetes-admin", PodOf(EmittedJob()), subResource)).Allowed);
}
