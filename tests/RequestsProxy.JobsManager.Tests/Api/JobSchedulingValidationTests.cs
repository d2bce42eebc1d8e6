using System.Text.Json;
using System.Text.Json.Nodes;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>
/// The ways a template puts untrusted code on a control-plane node: a toleration without a key (every
/// taint tolerated), a toleration of a control-plane taint, control-plane labels in nodeSelector or node
/// affinity (required and preferred), nodeName. Each refusal names its field; the operator's
/// <c>allowTolerateAll</c> and <c>allowControlPlaneNodes</c> each relax exactly their own rules, and nothing relaxes nodeName.
/// </summary>
public sealed class JobSchedulingValidationTests
{
    private const string Ns = "training";

    private const string Required = "template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms";
    private const string Preferred = "template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution";

    private static readonly PodPolicy TolerateAll = new(AllowTolerateAll: true);
    private static readonly PodPolicy ControlPlane = new(AllowControlPlaneNodes: true);
    private static readonly PodPolicy Both = new(AllowTolerateAll: true, AllowControlPlaneNodes: true);

    /// <summary>Refused by the strict policy: (pod spec members, the field the 400 names).</summary>
    public static TheoryData<string, string> TolerateAllCases => new()
    {
        { """{"tolerations":[{"operator":"Exists"}]}""", "'template.spec.tolerations[0]' has no key (operator Exists): it tolerates every taint" },
        { """{"tolerations":[{"key":"nvidia.com/gpu","operator":"Exists"},{"operator":"Exists","effect":"NoSchedule"}]}""", "'template.spec.tolerations[1]' has no key (operator Exists): it tolerates every NoSchedule taint" },
        { """{"tolerations":[{"operator":"Exists","effect":"NoExecute","tolerationSeconds":60}]}""", "'template.spec.tolerations[0]' has no key (operator Exists): it tolerates every NoExecute taint" },
    };

    public static TheoryData<string, string> ControlPlaneCases => new()
    {
        { """{"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}]}""", "'template.spec.tolerations[0].key' 'node-role.kubernetes.io/control-plane' tolerates" },
        { """{"tolerations":[{"key":"node-role.kubernetes.io/master","operator":"Equal","value":"","effect":"NoSchedule"}]}""", "'template.spec.tolerations[0].key' 'node-role.kubernetes.io/master' tolerates" },
        // Rancher RKE's keys (finding A11).
        { """{"tolerations":[{"key":"node-role.kubernetes.io/controlplane","operator":"Equal","value":"true","effect":"NoSchedule"}]}""", "'template.spec.tolerations[0].key' 'node-role.kubernetes.io/controlplane' tolerates" },
        { """{"tolerations":[{"key":"node-role.kubernetes.io/etcd","operator":"Exists","effect":"NoExecute"}]}""", "'template.spec.tolerations[0].key' 'node-role.kubernetes.io/etcd' tolerates" },
        { """{"nodeSelector":{"node-role.kubernetes.io/controlplane":"true"}}""", "'template.spec.nodeSelector.node-role.kubernetes.io/controlplane' selects control-plane nodes" },
        { """{"tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"}]}""", "'template.spec.tolerations[0].key' 'CriticalAddonsOnly' tolerates" },
        { """{"nodeSelector":{"node-role.kubernetes.io/control-plane":""}}""", "'template.spec.nodeSelector.node-role.kubernetes.io/control-plane' selects control-plane nodes" },
        { """{"nodeSelector":{"accelerator":"a100","node-role.kubernetes.io/master":"true"}}""", "'template.spec.nodeSelector.node-role.kubernetes.io/master' selects control-plane nodes" },
        {
            """{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"accelerator","operator":"In","values":["a100"]}]},{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists"}]}]}}}}""",
            $"'{Required}[1].matchExpressions[0].key' 'node-role.kubernetes.io/control-plane' (operator Exists) selects control-plane nodes"
        },
        {
            """{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"node-role.kubernetes.io/master","operator":"In","values":[""]}]}]}}}}""",
            $"'{Required}[0].matchExpressions[0].key' 'node-role.kubernetes.io/master' (operator In) selects control-plane nodes"
        },
        {
            """{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"accelerator","operator":"Exists"},{"key":"node-role.kubernetes.io/control-plane","operator":"Exists"}]}}]}}}""",
            $"'{Preferred}[0].preference.matchExpressions[1].key' 'node-role.kubernetes.io/control-plane' (operator Exists) selects control-plane nodes"
        },
        {
            """{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":5,"preference":{"matchExpressions":[{"key":"zone","operator":"In","values":["a"]}]}},{"weight":100,"preference":{"matchExpressions":[{"key":"node-role.kubernetes.io/master","operator":"Gt","values":["0"]}]}}]}}}""",
            $"'{Preferred}[1].preference.matchExpressions[0].key' 'node-role.kubernetes.io/master' (operator Gt) selects control-plane nodes"
        },
    };

    /// <summary>Accepted by every policy: named taints, what keeps a job off control-plane nodes, pod (anti-)affinity.</summary>
    public static TheoryData<string> AlwaysAccepted => new()
    {
        """{"tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"},{"key":"dedicated","operator":"Equal","value":"ml","effect":"NoExecute","tolerationSeconds":300}]}""",
        """{"nodeSelector":{"accelerator":"a100","kubernetes.io/arch":"amd64"}}""",
        """{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"DoesNotExist"},{"key":"node-role.kubernetes.io/master","operator":"NotIn","values":[""]}]}]}}}}""",
        """{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"DoesNotExist"}]}}]}}}""",
        """{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"node-role.kubernetes.io/control-plane","labelSelector":{"matchLabels":{"app":"ddp"}}}]},"podAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"podAffinityTerm":{"topologyKey":"kubernetes.io/hostname","labelSelector":{"matchLabels":{"app":"ddp"}}}}]}}}""",
    };

    [Theory]
    [MemberData(nameof(TolerateAllCases))]
    [MemberData(nameof(ControlPlaneCases))]
    public void Validate_StrictPolicy_RefusedNamingTheField(string podSpecPatch, string expected)
    {
        var (spec, errors) = Validate(podSpecPatch, PodPolicy.Strict);

        Assert.Null(spec);
        var error = Assert.Single(errors);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TolerateAllCases))]
    public void Validate_AllowTolerateAll_KeylessTolerationAccepted(string podSpecPatch, string _)
    {
        var (spec, errors) = Validate(podSpecPatch, TolerateAll);

        Assert.Empty(errors);
        Assert.NotNull(spec);
    }

    [Theory]
    [MemberData(nameof(TolerateAllCases))]
    public void Validate_AllowControlPlaneNodesOnly_KeylessTolerationStillRefused(string podSpecPatch, string expected)
    {
        var (_, errors) = Validate(podSpecPatch, ControlPlane);

        var error = Assert.Single(errors);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
        Assert.EndsWith("(jobsManager.podPolicy.allowTolerateAll)", error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ControlPlaneCases))]
    public void Validate_AllowControlPlaneNodes_ControlPlaneTolerationAndSelectionAccepted(string podSpecPatch, string _)
    {
        var (spec, errors) = Validate(podSpecPatch, ControlPlane);

        Assert.Empty(errors);
        Assert.NotNull(spec);
    }

    [Theory]
    [MemberData(nameof(ControlPlaneCases))]
    public void Validate_AllowTolerateAllOnly_ControlPlaneRulesStillRefused(string podSpecPatch, string expected)
    {
        var (_, errors) = Validate(podSpecPatch, TolerateAll);

        var error = Assert.Single(errors);
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
        Assert.Contains("(jobsManager.podPolicy.allowControlPlaneNodes)", error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AlwaysAccepted))]
    public void Validate_NamedTaintsAvoidingControlPlaneAndPodAffinity_AcceptedUnderEveryPolicy(string podSpecPatch)
    {
        foreach (var policy in new[] { PodPolicy.Strict, TolerateAll, ControlPlane, Both })
        {
            var (spec, errors) = Validate(podSpecPatch, policy);

            Assert.Empty(errors);
            Assert.NotNull(spec);
        }
    }

    [Fact]
    public void Validate_BothAllowed_EveryToleranceAndSelectionAccepted()
    {
        var patch = """
            {"tolerations":[{"operator":"Exists"},{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}],
             "nodeSelector":{"node-role.kubernetes.io/control-plane":""},
             "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"node-role.kubernetes.io/master","operator":"Exists"}]}]},
                         "preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists"}]}}]}}}
            """;

        var (spec, errors) = Validate(patch, Both);

        Assert.Empty(errors);
        Assert.NotNull(spec);
    }

    [Fact]
    public void Validate_EveryRuleBrokenAtOnce_EachNamed()
    {
        var patch = """
            {"tolerations":[{"operator":"Exists"},{"key":"node-role.kubernetes.io/master","operator":"Exists"}],
             "nodeSelector":{"node-role.kubernetes.io/control-plane":""},
             "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"node-role.kubernetes.io/master","operator":"Exists"}]}]},
                         "preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"preference":{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"In","values":[""]}]}}]}},
             "nodeName":"cp-1"}
            """;

        var (_, errors) = Validate(patch, PodPolicy.Strict);

        string[] fields =
        [
            "'template.spec.nodeName'", "'template.spec.tolerations[0]' has no key", "'template.spec.tolerations[1].key'", "'template.spec.nodeSelector.node-role.kubernetes.io/control-plane'",
            $"'{Required}[0].matchExpressions[0].key'", $"'{Preferred}[0].preference.matchExpressions[0].key'",
        ];
        Assert.Equal(fields.Length, errors.Count);
        Assert.All(fields, f => Assert.Contains(errors, e => e.StartsWith(f, StringComparison.Ordinal)));
    }

    [Fact]
    public void Validate_NodeName_RefusedWhateverThePolicy()
    {
        foreach (var policy in new[] { PodPolicy.Strict, TolerateAll, ControlPlane, Both })
        {
            var (spec, errors) = Validate("""{"nodeName":"worker-1"}""", policy);

            Assert.Null(spec);
            Assert.Equal(["'template.spec.nodeName' must be left out: it bypasses the scheduler (and the taints that keep jobs off control-plane nodes); use nodeSelector or affinity"], errors);
        }
    }

    [Fact]
    public void Validate_WholeJobManifest_PathsAreTheManifests()
    {
        var manifest = """
            {"metadata":{"name":"ddp"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i:1"}],
              "tolerations":[{"operator":"Exists"}],"nodeSelector":{"node-role.kubernetes.io/control-plane":""}}}}}
            """;

        var (_, errors) = StartJobRequestValidator.Validate(new StartJobRequest(null, null, null, null, null, null, Job: Element(manifest)), "results:write", [Ns], PodPolicy.Strict);

        Assert.Contains(errors, e => e.StartsWith("'job.spec.template.spec.tolerations[0]' has no key", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("'job.spec.template.spec.nodeSelector.node-role.kubernetes.io/control-plane' selects", StringComparison.Ordinal));
    }

    private static (JobSpec? Spec, IReadOnlyList<string> Errors) Validate(string podSpecPatch, PodPolicy policy)
    {
        var template = JsonNode.Parse("""{"spec":{"restartPolicy":"Never","containers":[{"name":"trainer","image":"registry.example/ddp:3"}]}}""")!.AsObject();
        var spec = template["spec"]!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(podSpecPatch)!.AsObject())
        {
            spec[key] = value?.DeepClone();
        }

        return StartJobRequestValidator.Validate(new StartJobRequest("ddp", null, null, null, null, null, Template: Element(template.ToJsonString())), "results:write", [Ns], policy);
    }

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
