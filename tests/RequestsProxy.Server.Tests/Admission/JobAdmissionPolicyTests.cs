using System.Text.Json.Nodes;
using k8s.Models;
using RequestsProxy.Server.Admission;
using static RequestsProxy.Server.Tests.Admission.WorkloadReviews;

namespace RequestsProxy.Server.Tests.Admission;

public sealed class JobAdmissionPolicyTests
{
    private static readonly JobAdmissionPolicy Policy = new(SecretAdmissionPolicyTests.JobsManager);

    private static AdmissionDecision Decide(JsonObject job, string operation = "CREATE", string user = SecretAdmissionPolicyTests.JobsManager) =>
        Policy.Decide(Review("batch", "jobs", operation, user, job));

    [Theory]
    [InlineData("CREATE")]
    [InlineData("UPDATE")]
    public void Decide_TheJobTheJobsManagerEmits_Allowed(string operation)
    {
        var decision = Decide(EmittedJob(), operation);

        Assert.True(decision.Allowed, decision.Message);
        Assert.Equal(JobAdmissionPolicy.SecretsRule, decision.Rule);
    }

    [Fact]
    public void Decide_TheJobsManagersJobFromATemplateWithConfigMapsPullSecretsAndCsi_Allowed()
    {
        // What the template validation lets through: configMap and csi volumes, image pull Secrets, the default service account.
        var template = new V1JobSpec
        {
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    ServiceAccountName = "default",
                    ImagePullSecrets = [new V1LocalObjectReference { Name = "registry-pull" }],
                    Volumes =
                    [
                        new V1Volume { Name = "data", ConfigMap = new V1ConfigMapVolumeSource { Name = "dataset" } },
                        new V1Volume { Name = "vault", Csi = new V1CSIVolumeSource { Driver = "secrets-store.csi.k8s.io", NodePublishSecretRef = new V1LocalObjectReference { Name = "vault-creds" } } },
                    ],
                    Containers = [new V1Container { Name = "training", Image = "trainer:1", VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }] }],
                    InitContainers = [new V1Container { Name = "fetch", Image = "fetch:1" }],
                },
            },
        };

        var decision = Decide(EmittedJob("job-2", template));

        Assert.True(decision.Allowed, decision.Message);
    }

    [Fact]
    public void Decide_AnotherUser_NotJudged()
    {
        var job = EmittedJob();
        Volumes(job).Add(new JsonObject { ["name"] = "sa", ["secret"] = new JsonObject { ["secretName"] = "default-token-x7k2p" } });

        var decision = Decide(job, user: "kubernetes-admin");

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.NotTheJobsManager, decision.Rule);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("CONNECT")]
    public void Decide_OtherOperations_NotJudged(string operation) =>
        Assert.True(Decide(new JsonObject(), operation).Allowed);

    [Fact]
    public void Decide_JobsManagerOnJobStatus_NotJudged() =>
        Assert.True(Policy.Decide(Review("batch", "jobs", "UPDATE", SecretAdmissionPolicyTests.JobsManager, new JsonObject(), subResource: "status")).Allowed);

    [Theory]
    [InlineData("{\"name\":\"sa\",\"secret\":{\"secretName\":\"default-token-x7k2p\"}}", "volumes[2].secret.secretName' names Secret 'default-token-x7k2p'")]
    [InlineData("{\"name\":\"other\",\"secret\":{\"secretName\":\"job-9-requests-proxy-token\"}}", "volumes[2].secret.secretName' names Secret 'job-9-requests-proxy-token'")]
    [InlineData("{\"name\":\"p\",\"projected\":{\"sources\":[{\"configMap\":{\"name\":\"c\"}},{\"secret\":{\"name\":\"upstream\"}}]}}", "volumes[2].projected.sources[1].secret.name' names Secret 'upstream'")]
    [InlineData("{\"name\":\"csi\",\"csi\":{\"driver\":\"d\",\"nodePublishSecretRef\":{\"name\":\"job-9-requests-proxy-token\"}}}", "volumes[2].csi.nodePublishSecretRef.name' names another job's token Secret")]
    public void Decide_AVolumeOfAnotherSecret_DeniedNamingTheField(string volume, string detail)
    {
        var job = EmittedJob();
        Volumes(job).Add(JsonNode.Parse(volume));

        AssertDenied(Decide(job), JobAdmissionPolicy.SecretsRule, "'spec.template.spec." + detail);
    }

    [Fact]
    public void Decide_EnvAndEnvFromOfAnotherSecret_DeniedNamingEveryField()
    {
        var job = EmittedJob();
        var container = PodSpec(job)["containers"]![0]!.AsObject();
        container["env"]!.AsArray().Add(new JsonObject { ["name"] = "T", ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = "default-token-x7k2p", ["key"] = "token" } } });
        container["envFrom"] = new JsonArray(new JsonObject { ["secretRef"] = new JsonObject { ["name"] = "job-9-requests-proxy-token" } });

        AssertDenied(Decide(job), JobAdmissionPolicy.SecretsRule,
            "'spec.template.spec.containers[0].env[4].valueFrom.secretKeyRef.name' names Secret 'default-token-x7k2p'",
            "'spec.template.spec.containers[0].envFrom[0].secretRef.name' names Secret 'job-9-requests-proxy-token'");
    }

    [Fact]
    public void Decide_InitContainerEnvOfAnotherSecret_Denied()
    {
        var job = EmittedJob();
        PodSpec(job)["initContainers"] = new JsonArray(new JsonObject
        {
            ["name"] = "i",
            ["image"] = "x",
            ["env"] = new JsonArray(new JsonObject { ["name"] = "K", ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = "keys", ["key"] = "v1" } } }),
        });

        AssertDenied(Decide(job), JobAdmissionPolicy.SecretsRule, "'spec.template.spec.initContainers[0].env[0].valueFrom.secretKeyRef.name' names Secret 'keys'");
    }

    [Fact]
    public void Decide_ImagePullSecretOfAnotherJobsToken_Denied()
    {
        var job = EmittedJob();
        PodSpec(job)["imagePullSecrets"] = new JsonArray(new JsonObject { ["name"] = "job-9-requests-proxy-token" });

        AssertDenied(Decide(job), JobAdmissionPolicy.SecretsRule, "'spec.template.spec.imagePullSecrets[0].name' names another job's token Secret");
    }

    [Fact]
    public void Decide_ProjectedServiceAccountToken_Denied()
    {
        var job = EmittedJob();
        Volumes(job).Add(JsonNode.Parse("{\"name\":\"t\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"path\":\"token\",\"audience\":\"api\"}}]}}"));

        AssertDenied(Decide(job), JobAdmissionPolicy.CredentialRule, "'spec.template.spec.volumes[2].projected.sources[0].serviceAccountToken' is not allowed");
    }

    [Theory]
    [InlineData("true")]
    [InlineData(null)]
    [InlineData("\"false\"")]
    public void Decide_AutomountNotFalse_Denied(string? value)
    {
        var job = EmittedJob();
        PodSpec(job).Remove("automountServiceAccountToken");
        if (value is not null)
        {
            PodSpec(job)["automountServiceAccountToken"] = JsonNode.Parse(value);
        }

        AssertDenied(Decide(job), JobAdmissionPolicy.CredentialRule, "'spec.template.spec.automountServiceAccountToken' must be false");
    }

    [Theory]
    [InlineData("serviceAccountName")]
    [InlineData("serviceAccount")]
    public void Decide_AnotherServiceAccount_Denied(string field)
    {
        var job = EmittedJob();
        PodSpec(job)[field] = "rp-jobs-manager";

        AssertDenied(Decide(job), JobAdmissionPolicy.CredentialRule, $"'spec.template.spec.{field}' 'rp-jobs-manager'");
    }

    [Theory]
    [InlineData("hostNetwork", "true", "'spec.template.spec.hostNetwork' must not be true")]
    [InlineData("hostPID", "true", "'spec.template.spec.hostPID' must not be true")]
    [InlineData("hostIPC", "true", "'spec.template.spec.hostIPC' must not be true")]
    [InlineData("nodeName", "\"node-1\"", "'spec.template.spec.nodeName' 'node-1' must be left out")]
    public void Decide_HostAccess_Denied(string field, string value, string detail)
    {
        var job = EmittedJob();
        PodSpec(job)[field] = JsonNode.Parse(value);

        AssertDenied(Decide(job), JobAdmissionPolicy.HostRule, detail);
    }

    [Fact]
    public void Decide_HostPathAndPrivileged_DeniedNamingBoth()
    {
        var job = EmittedJob();
        Volumes(job).Add(JsonNode.Parse("{\"name\":\"node\",\"hostPath\":{\"path\":\"/var/lib/kubelet\"}}"));
        PodSpec(job)["containers"]![0]!["securityContext"]!["privileged"] = true;

        AssertDenied(Decide(job), JobAdmissionPolicy.HostRule,
            "'spec.template.spec.volumes[2].hostPath' is not allowed", "'spec.template.spec.containers[0].securityContext.privileged' must not be true");
    }

    [Fact]
    public void Decide_SeveralRulesBroken_NamesTheFirstAndListsAll()
    {
        var job = EmittedJob();
        Volumes(job).Add(JsonNode.Parse("{\"name\":\"sa\",\"secret\":{\"secretName\":\"default-token-x7k2p\"}}"));
        PodSpec(job)["automountServiceAccountToken"] = true;
        PodSpec(job)["hostPID"] = true;

        AssertDenied(Decide(job), JobAdmissionPolicy.SecretsRule, "(rule job-gets-no-api-credential)", "(rule job-shares-nothing-with-its-node)");
    }

    [Fact]
    public void Decide_NoObjectOrNoPodSpec_Denied()
    {
        AssertDenied(Policy.Decide(Review("batch", "jobs", "CREATE", SecretAdmissionPolicyTests.JobsManager, null)), JobAdmissionPolicy.SecretsRule, "carries no object");
        AssertDenied(Decide(JsonNode.Parse("{\"metadata\":{\"name\":\"j\"},\"spec\":{}}")!.AsObject()), JobAdmissionPolicy.SecretsRule, "no spec.template.spec");
    }

    private static JsonArray Volumes(JsonObject job) => PodSpec(job)["volumes"]!.AsArray();
}
