using System.Text.Json;
using System.Text.Json.Nodes;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>Every field a job template may not set is refused with a 400 naming it; the operator's policy relaxes exactly its switches (the scheduling ones: JobSchedulingValidationTests).</summary>
public sealed class JobTemplateValidationTests
{
    private const string Ns = "training";

    /// <summary>A GPU-shaped DDP pod template as a platform would paste it.</summary>
    private const string GpuTemplate = """
        {
          "metadata": { "labels": { "team": "vision" } },
          "spec": {
            "restartPolicy": "Never",
            "nodeSelector": { "accelerator": "a100" },
            "tolerations": [ { "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" } ],
            "imagePullSecrets": [ { "name": "registry" } ],
            "containers": [
              {
                "name": "trainer",
                "image": "registry.example/ddp:3",
                "command": ["torchrun"],
                "args": ["--nproc-per-node=1", "train.py"],
                "env": [ { "name": "EPOCHS", "value": "10" }, { "name": "RANK", "valueFrom": { "fieldRef": { "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } } ],
                "resources": { "requests": { "cpu": "2", "memory": "8Gi", "example.com/gpu": "1" }, "limits": { "memory": "8Gi", "example.com/gpu": "1" } },
                "volumeMounts": [ { "name": "shm", "mountPath": "/dev/shm" }, { "name": "data", "mountPath": "/data", "readOnly": true } ]
              }
            ],
            "volumes": [
              { "name": "shm", "emptyDir": { "medium": "Memory", "sizeLimit": "2Gi" } },
              { "name": "data", "persistentVolumeClaim": { "claimName": "datasets" } }
            ]
          }
        }
        """;

    [Fact]
    public void Validate_GpuShapedIndexedTemplate_AcceptedWithTheJobFields()
    {
        var (spec, errors) = Validate(Request(GpuTemplate) with { Parallelism = 3, Completions = 3, CompletionMode = "Indexed", BackoffLimit = 2, ActiveDeadlineSeconds = 86400, TtlSecondsAfterFinished = 600 });

        Assert.Empty(errors);
        Assert.NotNull(spec!.Template);
        Assert.Equal((3, 3, "Indexed", 2, 86400L, 600), (spec.Template.Spec.Parallelism, spec.Template.Spec.Completions, spec.Template.Spec.CompletionMode,
            spec.Template.Spec.BackoffLimit, spec.Template.Spec.ActiveDeadlineSeconds, spec.Template.Spec.TtlSecondsAfterFinished));
        Assert.Equal("registry.example/ddp:3", spec.Image);
        Assert.Equal(["torchrun"], spec.Command);
        Assert.Equal(["--nproc-per-node=1", "train.py"], spec.Args);
        Assert.Equal("10", spec.Env["EPOCHS"]);
        Assert.Equal("1", spec.Template.Spec.Template.Spec.Containers[0].Resources.Limits["example.com/gpu"].ToString());
    }

    [Fact]
    public void Validate_WholeJobManifest_NameFromItsMetadataAndServerFieldsIgnored()
    {
        var manifest = new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["metadata"] = new JsonObject { ["name"] = "ddp-7", ["namespace"] = Ns, ["labels"] = new JsonObject { ["team"] = "vision" }, ["uid"] = "abc", ["resourceVersion"] = "12" },
            ["spec"] = new JsonObject { ["parallelism"] = 3, ["completions"] = 3, ["completionMode"] = "Indexed", ["template"] = JsonNode.Parse(GpuTemplate) },
            ["status"] = new JsonObject { ["active"] = 1 },
        };

        var (spec, errors) = Validate(new StartJobRequest(null, null, null, null, null, null, Job: Element(manifest.ToJsonString())));

        Assert.Empty(errors);
        Assert.Equal("ddp-7", spec!.Name);
        Assert.Equal("vision", spec.Template!.Labels["team"]);
        Assert.Equal(3, spec.Template.Spec.Parallelism);
    }

    [Fact]
    public void Validate_JobSpecAlone_Accepted()
    {
        var (spec, errors) = Validate(new StartJobRequest("ddp", null, null, null, null, null, Job: Element($$"""{"completions":2,"template":{{GpuTemplate}}}""")));

        Assert.Empty(errors);
        Assert.Equal(2, spec!.Template!.Spec.Completions);
    }

    [Theory]
    [InlineData("""{"automountServiceAccountToken":true}""", "'template.spec.automountServiceAccountToken'")]
    [InlineData("""{"serviceAccountName":"builder"}""", "'template.spec.serviceAccountName'")]
    [InlineData("""{"serviceAccount":"builder"}""", "'template.spec.serviceAccount'")]
    [InlineData("""{"hostNetwork":true}""", "'template.spec.hostNetwork'")]
    [InlineData("""{"hostPID":true}""", "'template.spec.hostPID'")]
    [InlineData("""{"hostIPC":true}""", "'template.spec.hostIPC'")]
    [InlineData("""{"restartPolicy":"Always"}""", "'template.spec.restartPolicy'")]
    [InlineData("""{"securityContext":{"runAsNonRoot":false}}""", "'template.spec.securityContext.runAsNonRoot'")]
    [InlineData("""{"securityContext":{"runAsUser":0}}""", "'template.spec.securityContext.runAsUser'")]
    [InlineData("""{"securityContext":{"seccompProfile":{"type":"Unconfined"}}}""", "'template.spec.securityContext.seccompProfile.type'")]
    [InlineData("""{"volumes":[{"name":"node","hostPath":{"path":"/"}}]}""", "'template.spec.volumes[0].hostPath'")]
    [InlineData("""{"volumes":[{"name":"sa","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}]}""", "'template.spec.volumes[0].projected.sources[0].serviceAccountToken'")]
    [InlineData("""{"volumes":[{"name":"requests-proxy-token","emptyDir":{}}]}""", "'template.spec.volumes[0].name'")]
    [InlineData("""{"volumes":[{"name":"requests-proxy-tmp","emptyDir":{}}]}""", "'template.spec.volumes[0].name'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"privileged":true}}]}""", "'template.spec.containers[0].securityContext.privileged'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"allowPrivilegeEscalation":true}}]}""", "'template.spec.containers[0].securityContext.allowPrivilegeEscalation'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"readOnlyRootFilesystem":false}}]}""", "'template.spec.containers[0].securityContext.readOnlyRootFilesystem'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"capabilities":{"add":["NET_ADMIN"]}}}]}""", "'template.spec.containers[0].securityContext.capabilities.add' NET_ADMIN")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"procMount":"Unmasked"}}]}""", "'template.spec.containers[0].securityContext.procMount'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"runAsUser":0}}]}""", "'template.spec.containers[0].securityContext.runAsUser'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","securityContext":{"seccompProfile":{"type":"Unconfined"}}}]}""", "'template.spec.containers[0].securityContext.seccompProfile.type'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","ports":[{"containerPort":29500,"hostPort":29500}]}]}""", "'template.spec.containers[0].ports[0].hostPort'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","env":[{"name":"REQUESTS_PROXY_TOKEN","value":"x"}]}]}""", "'template.spec.containers[0].env[0].name'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","volumeMounts":[{"name":"requests-proxy-token","mountPath":"/x"}]}]}""", "'template.spec.containers[0].volumeMounts[0].name'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","volumeMounts":[{"name":"d","mountPath":"/var/run/requests-proxy/token/"}]}]}""", "'template.spec.containers[0].volumeMounts[0].mountPath'")]
    [InlineData("""{"containers":[{"name":"c"}]}""", "'template.spec.containers[0].image'")]
    [InlineData("""{"containers":[]}""", "'template.spec.containers'")]
    [InlineData("""{"initContainers":[{"name":"fetch","image":"i","securityContext":{"privileged":true}}]}""", "'template.spec.initContainers[0].securityContext.privileged'")]
    [InlineData("""{"containers":[{"name":"c","image":"i","resource":{"limits":{"cpu":"1"}}}]}""", "'template.spec.containers[0].resource' is not a field")]
    [InlineData("""{"tolerashuns":[]}""", "'template.spec.tolerashuns' is not a field")]
    public void Validate_RefusedPodField_400NamingIt(string podSpecPatch, string expected)
    {
        var (spec, errors) = Validate(Request(Patched(podSpecPatch)));

        Assert.Null(spec);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"metadata":{"labels":{"requests-proxy.io/training-job":"false"}}}""", "'template.metadata.labels.requests-proxy.io/training-job'")]
    public void Validate_ReservedTemplateLabel_Refused(string templatePatch, string expected)
    {
        var template = JsonNode.Parse(GpuTemplate)!.AsObject();
        template["metadata"] = JsonNode.Parse(templatePatch)!["metadata"]!.DeepClone();

        var (_, errors) = Validate(Request(template.ToJsonString()));

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"selector":{"matchLabels":{"a":"b"}}}""", "'job.selector'")]
    [InlineData("""{"manualSelector":true}""", "'job.manualSelector'")]
    [InlineData("""{"parallelism":-1}""", "'job.parallelism' must not be negative")]
    [InlineData("""{"completionMode":"Sparse"}""", "'job.completionMode'")]
    [InlineData("""{"completionMode":"Indexed"}""", "'job.completions' is required")]
    [InlineData("""{"activeDeadlineSeconds":0}""", "'job.activeDeadlineSeconds' must be positive")]
    [InlineData("""{"backoffLimit":-2}""", "'job.backoffLimit' must not be negative")]
    public void Validate_RefusedJobSpecField_400NamingIt(string jobPatch, string expected)
    {
        var job = JsonNode.Parse(jobPatch)!.AsObject();
        job["template"] = JsonNode.Parse(GpuTemplate);

        var (_, errors) = Validate(new StartJobRequest("ddp", null, null, null, null, null, Job: Element(job.ToJsonString())));

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ManifestProblems_EachNamed()
    {
        var manifest = $$$"""
            {"apiVersion":"batch/v2","kind":"Job","metadata":{"name":"other","namespace":"kube-system","generateName":"x-","labels":{"requests-proxy.io/job":"y"}},
             "spec":{"template":{{{GpuTemplate}}}},"extra":1}
            """;

        var (_, errors) = Validate(new StartJobRequest("ddp", "img", null, null, null, null, Job: Element(manifest), Parallelism: 2));

        string[] expected =
        [
            "'job.apiVersion' must be \"batch/v1\"", "'job.extra' is not a field", "'job.metadata.name' is 'other' but 'name' is 'ddp'",
            "'job.metadata.namespace' is 'kube-system'", "'job.metadata.generateName'", "'image' belongs in the template's containers", "'parallelism' goes inside 'job'",
        ];
        Assert.All(expected, x => Assert.Contains(errors, e => e.Contains(x, StringComparison.Ordinal)));
    }

    [Fact]
    public void Validate_ReservedJobLabel_Refused()
    {
        var manifest = $$$"""{"metadata":{"name":"ddp","labels":{"requests-proxy.io/job":"y"}},"spec":{"template":{{{GpuTemplate}}}}}""";

        var (_, errors) = Validate(new StartJobRequest(null, null, null, null, null, null, Job: Element(manifest)));

        Assert.Contains(errors, e => e.Contains("'job.metadata.labels.requests-proxy.io/job' is reserved", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_JobAndTemplateTogether_Refused()
    {
        var (_, errors) = Validate(new StartJobRequest("ddp", null, null, null, null, null, Job: Element("{}"), Template: Element(GpuTemplate)));

        Assert.Contains("give either 'job' or 'template', not both", errors);
    }

    [Fact]
    public void Validate_JobFieldsWithoutATemplate_Refused()
    {
        var (_, errors) = Validate(new StartJobRequest("ddp", "img", null, null, null, null, Completions: 3));

        Assert.Contains("'completions' needs a 'template' (or use 'job')", errors);
    }

    [Fact]
    public void Validate_PolicyAllowsRootWritableRootAndACapability_AcceptedExactlyThose()
    {
        var patch = """{"securityContext":{"runAsUser":0},"containers":[{"name":"c","image":"i","securityContext":{"runAsNonRoot":false,"readOnlyRootFilesystem":false,"capabilities":{"add":["IPC_LOCK","NET_ADMIN"]}}}]}""";
        var policy = new PodPolicy(AllowRunAsRoot: true, AllowWritableRootFilesystem: true, AllowedCapabilities: ["IPC_LOCK"]);

        var (_, errors) = StartJobRequestValidator.Validate(Request(Patched(patch)), "results:write", [Ns], policy);

        Assert.Equal(["'template.spec.containers[0].securityContext.capabilities.add' NET_ADMIN is not allowed by this installation's pod policy (jobsManager.podPolicy.allowedCapabilities)"], errors);
    }

    [Theory]
    [InlineData("kernel.shm_rmid_forced")]
    [InlineData("net.ipv4.ip_local_port_range")]
    [InlineData("net.ipv4.tcp_syncookies")]
    [InlineData("net.ipv4.ping_group_range")]
    [InlineData("net.ipv4.ip_unprivileged_port_start")]
    [InlineData("net.ipv4.ip_local_reserved_ports")]
    [InlineData("net.ipv4.tcp_keepalive_time")]
    [InlineData("net.ipv4.tcp_fin_timeout")]
    [InlineData("net.ipv4.tcp_keepalive_intvl")]
    [InlineData("net.ipv4.tcp_keepalive_probes")]
    [InlineData("net.ipv4.tcp_rmem")]
    [InlineData("net.ipv4.tcp_wmem")]
    [InlineData("net/ipv4/ip_local_port_range")]
    public void Validate_SafeSysctl_Accepted(string sysctl)
    {
        var (spec, errors) = Validate(Request(Patched($$$"""{"securityContext":{"sysctls":[{"name":"{{{sysctl}}}","value":"1"}]}}""")));

        Assert.Empty(errors);
        Assert.NotNull(spec);
    }

    [Theory]
    [InlineData("kernel.msgmax")]
    [InlineData("kernel.sem")]
    [InlineData("net.core.somaxconn")]
    [InlineData("net.ipv4.ip_forward")]
    [InlineData("fs.mqueue.msg_max")]
    [InlineData("vm.swappiness")]
    [InlineData("kernel.shm_rmid_forced.x")]
    [InlineData("net/core/somaxconn")]
    public void Validate_UnsafeSysctl_RefusedNamingTheField(string sysctl)
    {
        var (spec, errors) = Validate(Request(Patched($$$"""{"securityContext":{"sysctls":[{"name":"kernel.shm_rmid_forced","value":"1"},{"name":"{{{sysctl}}}","value":"1"}]}}""")));

        Assert.Null(spec);
        Assert.Equal([$"'template.spec.securityContext.sysctls[1].name' '{sysctl}' is not one of Kubernetes' safe sysctls and this installation's pod policy does not allow it (jobsManager.podPolicy.allowedSysctls)"], errors);
    }

    [Fact]
    public void Validate_PolicyAllowsSysctlsByNameAndPrefix_AcceptedExactlyThose()
    {
        var patch = """{"securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"65536"},{"name":"net.core.somaxconn","value":"1024"},{"name":"kernel.msgmnb","value":"1"},{"name":"net.ipv4.tcp_syncookies","value":"1"}]}}""";
        var policy = new PodPolicy(AllowedSysctls: ["kernel.msgmax", "net.core.*"]);

        var (_, errors) = StartJobRequestValidator.Validate(Request(Patched(patch)), "results:write", [Ns], policy);

        Assert.Equal(["'template.spec.securityContext.sysctls[2].name' 'kernel.msgmnb' is not one of Kubernetes' safe sysctls and this installation's pod policy does not allow it (jobsManager.podPolicy.allowedSysctls)"], errors);
    }

    [Fact]
    public void Validate_NoNamespace_TheFirstJobNamespace()
    {
        var (spec, errors) = StartJobRequestValidator.Validate(new StartJobRequest("j", "img", null, null, null, null), "s", ["a-jobs", "b-jobs"], PodPolicy.Strict);

        Assert.Empty(errors);
        Assert.Equal("a-jobs", spec!.Namespace);
    }

    [Fact]
    public void Validate_NamespaceOrManifestNamespace_UsedWhenAJobNamespace()
    {
        var manifest = $$$"""{"metadata":{"name":"ddp","namespace":"b-jobs"},"spec":{"template":{{{GpuTemplate}}}}}""";

        var (byField, _) = StartJobRequestValidator.Validate(new StartJobRequest("j", "img", null, null, null, null, Namespace: "b-jobs"), "s", ["a-jobs", "b-jobs"], PodPolicy.Strict);
        var (byManifest, errors) = StartJobRequestValidator.Validate(new StartJobRequest(null, null, null, null, null, null, Job: Element(manifest)), "s", ["a-jobs", "b-jobs"], PodPolicy.Strict);

        Assert.Empty(errors);
        Assert.Equal(("b-jobs", "b-jobs"), (byField!.Namespace, byManifest!.Namespace));
    }

    [Fact]
    public void Validate_NamespaceNotAJobNamespace_RefusedNamingTheJobNamespaces()
    {
        var manifest = $$$"""{"metadata":{"name":"ddp","namespace":"b-jobs"},"spec":{"template":{{{GpuTemplate}}}}}""";

        var (_, release) = StartJobRequestValidator.Validate(new StartJobRequest("j", "img", null, null, null, null, Namespace: "rp"), "s", ["a-jobs"], PodPolicy.Strict);
        var (_, mismatch) = StartJobRequestValidator.Validate(new StartJobRequest(null, null, null, null, null, null, Job: Element(manifest), Namespace: "a-jobs"), "s", ["a-jobs", "b-jobs"], PodPolicy.Strict);

        Assert.Equal(["'namespace' is 'rp', not a job namespace of this jobs-manager (it runs jobs in 'a-jobs')"], release);
        Assert.Equal(["'job.metadata.namespace' is 'b-jobs' but 'namespace' is 'a-jobs': give one, or the same"], mismatch);
    }

    [Fact]
    public void Validate_LocalRuntime_NamespaceIgnored()
    {
        var (spec, errors) = StartJobRequestValidator.Validate(new StartJobRequest("j", "img", null, null, null, null, Namespace: "anything"), "s", null, PodPolicy.Strict);

        Assert.Empty(errors);
        Assert.Null(spec!.Namespace);
    }

    private static (JobSpec? Spec, IReadOnlyList<string> Errors) Validate(StartJobRequest request) =>
        StartJobRequestValidator.Validate(request, "results:write", [Ns], PodPolicy.Strict);

    private static StartJobRequest Request(string template) => new("ddp", null, null, null, null, null, Template: Element(template));

    /// <summary>The GPU template with the pod spec's members replaced by <paramref name="podSpecPatch"/>'s.</summary>
    private static string Patched(string podSpecPatch)
    {
        var template = JsonNode.Parse(GpuTemplate)!.AsObject();
        var spec = template["spec"]!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(podSpecPatch)!.AsObject())
        {
            spec[key] = value?.DeepClone();
        }

        return template.ToJsonString();
    }

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
