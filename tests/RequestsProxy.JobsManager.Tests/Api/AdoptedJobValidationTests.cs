using k8s.Models;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>
/// A labelled Job created by another tool is held to the start request's rules (one validator): what
/// breaks the product refuses it a token, naming the Job's own field; what the jobs-manager would have
/// injected (the token mount, REQUESTS_PROXY_* env, the volume's name) is the manifest's own and must
/// reference the documented token Secret instead.
/// </summary>
public sealed class AdoptedJobValidationTests
{
    private const string Ns = "ml-jobs";

    /// <summary>The adopt-mode manifest of docs/jobs-manager.md, as the API server returns it (its selector and pod labels set).</summary>
    private const string Documented = """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: train-7
          namespace: ml-jobs
          uid: 6c1a2b7e-0000-4000-8000-000000000007
          labels: {requests-proxy.io/token: "true", team: vision}
        spec:
          backoffLimit: 0
          selector: {matchLabels: {controller-uid: 6c1a2b7e-0000-4000-8000-000000000007}}
          template:
            metadata:
              labels: {controller-uid: 6c1a2b7e-0000-4000-8000-000000000007, job-name: train-7}
            spec:
              restartPolicy: Never
              automountServiceAccountToken: false
              securityContext: {sysctls: [{name: net.ipv4.tcp_keepalive_time, value: "60"}]}
              containers:
              - name: trainer
                image: registry.example/trainer:1.4
                env:
                - {name: REQUESTS_PROXY_URL, value: "http://rp-requests-proxy.ml.svc:8888"}
                - {name: REQUESTS_PROXY_TOKEN_FILE, value: /var/run/requests-proxy/token/token}
                - {name: REQUESTS_PROXY_TOKEN, valueFrom: {secretKeyRef: {name: train-7-requests-proxy-token, key: token}}}
                - {name: DATA_KEY, valueFrom: {secretKeyRef: {name: dataset-credentials, key: key}}}
                volumeMounts:
                - {name: requests-proxy-token, mountPath: /var/run/requests-proxy/token, readOnly: true}
              volumes:
              - name: requests-proxy-token
                secret: {secretName: train-7-requests-proxy-token}
        """;

    [Fact]
    public void ValidateAdopted_DocumentedManifest_Accepted()
    {
        Assert.Empty(Validate(Documented));
    }

    [Theory]
    [InlineData("spec.template.spec.containers[0].securityContext", "{privileged: true}", "'spec.template.spec.containers[0].securityContext.privileged' must not be true")]
    [InlineData("spec.template.spec.containers[0].securityContext", "{allowPrivilegeEscalation: true}", "'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation' must not be true")]
    [InlineData("spec.template.spec.containers[0].securityContext", "{capabilities: {add: [SYS_ADMIN]}}", "'spec.template.spec.containers[0].securityContext.capabilities.add' SYS_ADMIN is not allowed")]
    [InlineData("spec.template.spec.hostNetwork", "true", "'spec.template.spec.hostNetwork' must not be true")]
    [InlineData("spec.template.spec.hostPID", "true", "'spec.template.spec.hostPID' must not be true")]
    [InlineData("spec.template.spec.automountServiceAccountToken", "true", "'spec.template.spec.automountServiceAccountToken' must not be true")]
    [InlineData("spec.template.spec.automountServiceAccountToken", "null", "'spec.template.spec.automountServiceAccountToken' must be false (left out, the pods get the service account's token)")]
    [InlineData("spec.template.spec.serviceAccountName", "builder", "'spec.template.spec.serviceAccountName' must be left out")]
    [InlineData("spec.template.spec.nodeName", "control-plane", "'spec.template.spec.nodeName' must be left out")]
    [InlineData("spec.template.spec.tolerations", "[{operator: Exists}]", "'spec.template.spec.tolerations[0]' has no key (operator Exists): it tolerates every taint")]
    [InlineData("spec.template.spec.tolerations", "[{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]", "'spec.template.spec.tolerations[0].key' 'node-role.kubernetes.io/control-plane' tolerates")]
    [InlineData("spec.template.spec.nodeSelector", "{node-role.kubernetes.io/master: ''}", "'spec.template.spec.nodeSelector.node-role.kubernetes.io/master' selects control-plane nodes")]
    [InlineData("spec.template.spec.affinity", "{nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: node-role.kubernetes.io/control-plane, operator: Exists}]}}]}}",
        "'spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].key' 'node-role.kubernetes.io/control-plane' (operator Exists) selects")]
    [InlineData("spec.template.spec.securityContext", "{sysctls: [{name: kernel.msgmax, value: '1'}]}", "'spec.template.spec.securityContext.sysctls[0].name' 'kernel.msgmax' is not one of Kubernetes' safe sysctls")]
    [InlineData("spec.template.spec.securityContext", "{runAsUser: 0}", "'spec.template.spec.securityContext.runAsUser' 0 (root) is not allowed")]
    [InlineData("spec.template.spec.volumes[1]", "{name: node, hostPath: {path: /}}", "'spec.template.spec.volumes[1].hostPath' is not allowed")]
    [InlineData("spec.template.spec.volumes[1]", "{name: sa, projected: {sources: [{serviceAccountToken: {path: t}}]}}", "'spec.template.spec.volumes[1].projected.sources[0].serviceAccountToken' is not allowed")]
    [InlineData("spec.template.spec.volumes[1]", "{name: other, secret: {secretName: ddp-3-requests-proxy-token}}", "'spec.template.spec.volumes[1].secret.secretName' 'ddp-3-requests-proxy-token' is a job's token Secret: a job gets only its own token, 'train-7-requests-proxy-token'")]
    [InlineData("spec.template.metadata.annotations", "{container.apparmor.security.beta.kubernetes.io/trainer: unconfined}", "'spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/trainer' must not be \"unconfined\"")]
    [InlineData("metadata.labels.requests-proxy.io/release", "rp", "'metadata.labels.requests-proxy.io/release' is reserved")]
    public void ValidateAdopted_RuleBroken_RefusedNamingTheJobsField(string field, string yaml, string expected)
    {
        var problems = Validate(Set(Documented, field, yaml));

        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateAdopted_TokenPathMountsAnotherVolume_Refused()
    {
        var job = Parse(Documented);
        job.Spec.Template.Spec.Volumes.Add(new V1Volume { Name = "fake-token", EmptyDir = new V1EmptyDirVolumeSource() });
        job.Spec.Template.Spec.Containers[0].VolumeMounts[0].Name = "fake-token";

        var problems = JobTemplateValidator.ValidateAdopted(job, PodPolicy.Strict, "ml");

        Assert.Contains("'spec.template.spec.containers[0].volumeMounts[0]' mounts 'fake-token' at /var/run/requests-proxy/token, where a client reads the job's token: it must be the token Secret 'train-7-requests-proxy-token'", problems);
    }

    [Fact]
    public void ValidateAdopted_TokenSecretNotReferenced_Refused()
    {
        var job = Parse(Documented);
        job.Spec.Template.Spec.Volumes.Clear();
        job.Spec.Template.Spec.Containers[0].VolumeMounts.Clear();
        job.Spec.Template.Spec.Containers[0].Env.RemoveAt(2);

        var problems = JobTemplateValidator.ValidateAdopted(job, PodPolicy.Strict, "ml");

        Assert.Equal(["'spec.template.spec' does not reference its token Secret 'train-7-requests-proxy-token': mount it at /var/run/requests-proxy/token (docs/jobs-manager.md, adopt mode), or its pods cannot read the token"], problems);
    }

    [Fact]
    public void ValidateAdopted_InTheReleaseNamespace_OnlyItsOwnTokenSecret()
    {
        var problems = JobTemplateValidator.ValidateAdopted(Parse(Documented), PodPolicy.Strict, releaseNamespace: Ns);

        Assert.Equal(["'spec.template.spec.containers[0].env[3].valueFrom.secretKeyRef.name' 'dataset-credentials': a job in the jobs-manager's own namespace may not read its Secrets (signing keys, admin and upstream credentials live there); run jobs that need a Secret in a job namespace (JOBS_MANAGER_JOB_NAMESPACES)"], problems);
    }

    [Fact]
    public void ValidateAdopted_PolicyRelaxations_AppliedAsToStartRequests()
    {
        var job = Parse(Set(Documented, "spec.template.spec.securityContext", "{runAsUser: 0, sysctls: [{name: kernel.msgmax, value: '1'}]}"));

        Assert.Empty(JobTemplateValidator.ValidateAdopted(job, new PodPolicy(AllowRunAsRoot: true, AllowedSysctls: ["kernel.msg*"]), "ml"));
    }

    [Fact]
    public void ValidateAdopted_SchedulingPolicy_AppliedAsToStartRequests()
    {
        var job = Parse(Set(Set(Documented, "spec.template.spec.tolerations", "[{operator: Exists}, {key: node-role.kubernetes.io/control-plane, operator: Exists}]"),
            "spec.template.spec.nodeSelector", "{node-role.kubernetes.io/control-plane: ''}"));

        Assert.Equal(3, JobTemplateValidator.ValidateAdopted(job, PodPolicy.Strict, "ml").Count);
        Assert.Equal(2, JobTemplateValidator.ValidateAdopted(job, new PodPolicy(AllowTolerateAll: true), "ml").Count);
        Assert.Single(JobTemplateValidator.ValidateAdopted(job, new PodPolicy(AllowControlPlaneNodes: true), "ml"));
        Assert.Empty(JobTemplateValidator.ValidateAdopted(job, new PodPolicy(AllowTolerateAll: true, AllowControlPlaneNodes: true), "ml"));
    }

    private static IReadOnlyList<string> Validate(string yaml) => JobTemplateValidator.ValidateAdopted(Parse(yaml), PodPolicy.Strict, "ml");

    private static V1Job Parse(string yaml) => k8s.KubernetesYaml.Deserialize<V1Job>(yaml);

    /// <summary>The manifest with one field (a dotted path; "[i]" indexes a list, appending when i is its length) set to a YAML value.</summary>
    private static string Set(string manifest, string field, string yaml)
    {
        var root = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(manifest);
        var parts = System.Text.RegularExpressions.Regex.Matches(field, @"(metadata\.labels\..+|[^.\[\]]+)(\[\d+\])?").Select(m => (m.Groups[1].Value, m.Groups[2].Success ? int.Parse(m.Groups[2].Value.Trim('[', ']'), System.Globalization.CultureInfo.InvariantCulture) : (int?)null)).ToList();
        object node = root;
        var value = yaml == "null" ? null : new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<object>(yaml);
        for (var i = 0; i < parts.Count; i++)
        {
            var (name, index) = parts[i];
            var map = (Dictionary<object, object>)node;
            if (name.StartsWith("metadata.labels.", StringComparison.Ordinal))
            {
                var labels = (Dictionary<object, object>)((Dictionary<object, object>)map["metadata"])["labels"];
                labels[name["metadata.labels.".Length..]] = value!;
                break;
            }

            var last = i == parts.Count - 1;
            if (index is { } at)
            {
                var list = (List<object>)map[name];
                if (last)
                {
                    if (at == list.Count) { list.Add(value!); } else { list[at] = value!; }
                }
                else
                {
                    node = list[at];
                }
            }
            else if (last)
            {
                map[name] = value!;
            }
            else
            {
                if (!map.TryGetValue(name, out var child))
                {
                    map[name] = child = new Dictionary<object, object>();
                }

                node = child;
            }
        }

        return new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(root);
    }
}
