using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The jobs-manager's rights: name-scoped in the release namespace; unscoped only in the job
/// namespaces, without any Secret verb that answers with a Secret (get, list, watch, patch); nothing
/// cluster-wide in either clusterScope mode.
/// </summary>
public sealed class RbacTests : IDisposable
{
    private const string JobNamespace = HelmChart.Namespace + "-jobs";

    // (apiGroup, resource, resourceName or "", verb): the contract table, flattened.
    private static readonly string[] ReleaseNamespaceRules =
    [
        "|secrets|rel-requests-proxy-keys|get",
        .. RevokedShards.SelectMany(name => new[] { $"|configmaps|{name}|get", $"|configmaps|{name}|update", $"|configmaps|{name}|patch" }),
        "|configmaps|rel-jobs-manager-state|get",
        "|configmaps|rel-jobs-manager-state|update",
        "|configmaps|rel-requests-proxy-legacy-tokens|get",
        "|configmaps|rel-requests-proxy-legacy-tokens|update",
        // The one unscoped right here: creating the ConfigMaps above when missing (create cannot be scoped by name).
        "|configmaps||create",
    ];

    private static readonly string[] JobNamespaceRules =
    [
        "|secrets||create",
        "|secrets||update",
        "batch|jobs||create",
        "batch|jobs||get",
        "batch|jobs||list",
        "batch|jobs||watch",
        "batch|jobs||delete",
        "|events||create",
    ];

    private static string[] RevokedShards => ["rel-requests-proxy-revoked", .. Enumerable.Range(1, 15).Select(i => $"rel-requests-proxy-revoked-{i}")];

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Template_ClusterScope_ReleaseNamespaceRoleNamesItsObjectsOnly(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={Flag(clusterScope)}"]);

        var role = Assert.Single(chart.OfKind("Role"), r => r.Str("metadata", "namespace") == HelmChart.Namespace);
        Assert.Equal("rel-jobs-manager", role.Str("metadata", "name"));
        Assert.Equal(ReleaseNamespaceRules.Order(StringComparer.Ordinal), Flatten(role).Order(StringComparer.Ordinal));
        // Every rule but the configmaps create names its objects; no Secret right is unscoped.
        var unscoped = Assert.Single(role["rules"]!.AsArray(), r => r!["resourceNames"] is null)!;
        Assert.Equal(["configmaps"], unscoped["resources"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["create"], unscoped["verbs"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.All(role["rules"]!.AsArray().Where(r => r != unscoped), r => Assert.NotEmpty(r!["resourceNames"]!.AsArray()));
        var binding = Assert.Single(chart.OfKind("RoleBinding"), b => b.Str("metadata", "namespace") == HelmChart.Namespace);
        Assert.Equal(("Role", "rel-jobs-manager"), (binding.Str("roleRef", "kind"), binding.Str("roleRef", "name")));
        AssertJobsManagerSubject(binding);
    }

    [Theory]
    [InlineData(false, "Role")]
    [InlineData(true, "ClusterRole")]
    public async Task Template_ClusterScope_JobNamespaceRulesBoundInEachJobNamespaceOnly(bool clusterScope, string roleKind)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={Flag(clusterScope)}", "jobNamespaces.names={team-a,team-b}"]);

        Assert.Empty(chart.OfKind("ClusterRoleBinding"));
        foreach (var ns in new[] { "team-a", "team-b" })
        {
            var binding = Assert.Single(chart.OfKind("RoleBinding"), b => b.Str("metadata", "namespace") == ns);
            Assert.Equal((roleKind, "jobs-rel-jobs-manager"), (binding.Str("roleRef", "kind"), binding.Str("roleRef", "name")));
            AssertJobsManagerSubject(binding);
            var role = clusterScope ? chart.Get("ClusterRole", "jobs-rel-jobs-manager") : Assert.Single(chart.OfKind("Role"), r => r.Str("metadata", "namespace") == ns);
            Assert.Equal(JobNamespaceRules.Order(StringComparer.Ordinal), Flatten(role).Order(StringComparer.Ordinal));
        }

        Assert.Equal(clusterScope ? 1 : 0, chart.OfKind("ClusterRole").Count());
        Assert.Equal(clusterScope ? 1 : 3, chart.OfKind("Role").Count());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Template_AnyScope_NoSecretVerbThatAnswersWithASecretAndNoTokenMinting(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={Flag(clusterScope)}"]);

        var rules = chart.Objects.Where(o => o.Str("kind") is "Role" or "ClusterRole").SelectMany(Flatten).ToList();
        // A merge patch, even {}, answers with the whole Secret; get/list/watch read it: none is granted, except get of the named key ring.
        Assert.Equal(["|secrets|rel-requests-proxy-keys|get"], rules.Where(r => r.StartsWith("|secrets|", StringComparison.Ordinal) && r.Split('|')[3] is "get" or "list" or "watch" or "patch"));
        Assert.DoesNotContain(rules, r => r.Contains("serviceaccounts", StringComparison.Ordinal) || r.Contains("pods", StringComparison.Ordinal) || r.Contains("rbac", StringComparison.Ordinal));
        Assert.DoesNotContain(rules, r => r.Contains('*', StringComparison.Ordinal));
    }

    [Fact]
    public async Task Template_Default_OneJobNamespaceNamedAfterTheReleaseNamespaceKeptAndRestricted()
    {
        var chart = await _helm.TemplateAsync();

        var ns = Assert.Single(chart.OfKind("Namespace"));
        Assert.Equal(JobNamespace, ns.Str("metadata", "name"));
        Assert.Equal("keep", ns.Str("metadata", "annotations", "helm.sh/resource-policy"));
        Assert.Equal("restricted", ns.Str("metadata", "labels", "pod-security.kubernetes.io/enforce"));
        Assert.Equal(JobNamespace, chart.Env("rel-jobs-manager")["JOBS_MANAGER_JOB_NAMESPACES"]);
        Assert.Single(chart.OfKind("Role"), r => r.Str("metadata", "namespace") == JobNamespace);
    }

    [Fact]
    public async Task Template_JobNamespacesGivenNotCreated_ListedInOrderNoNamespaceObjects()
    {
        var chart = await _helm.TemplateAsync(["jobNamespaces.names={team-b,team-a}", "jobNamespaces.create=false"]);

        Assert.Empty(chart.OfKind("Namespace"));
        Assert.Equal("team-b,team-a", chart.Env("rel-jobs-manager")["JOBS_MANAGER_JOB_NAMESPACES"]);
    }

    [Fact]
    public async Task Template_ReleaseNamespaceAsJobNamespace_RefusedWithTheReason()
    {
        var result = await _helm.TemplateRawAsync([$"jobNamespaces.names={{team-a,{HelmChart.Namespace}}}"]);

        Assert.False(result.Succeeded);
        Assert.Contains($"the release namespace \"{HelmChart.Namespace}\" cannot be a job namespace", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_ClusterWithAdmissionPolicies_JobsManagerSecretWritesConfinedToItsOwnTokenSecrets()
    {
        var chart = await _helm.TemplateAsync(["jobNamespaces.names={team-a,team-b}"], null, "--api-versions", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy");

        var policy = chart.Get("ValidatingAdmissionPolicy", "jobs-rel-jobs-manager-secrets");
        Assert.Equal("Fail", policy.Str("spec", "failurePolicy"));
        Assert.Equal("request.userInfo.username == 'system:serviceaccount:jobs:rel-jobs-manager'", policy["spec"]!["matchConditions"]![0]!.Str("expression"));
        var validations = policy["spec"]!["validations"]!.AsArray().Select(v => v!.Str("expression")!).ToList();
        Assert.Contains(validations, v => v.Contains("object.type == 'Opaque'", StringComparison.Ordinal) && v.Contains("endsWith('-requests-proxy-token')", StringComparison.Ordinal));
        Assert.Contains(validations, v => v.Contains("oldObject.metadata.labels['app.kubernetes.io/managed-by'] == 'requests-proxy-jobs-manager'", StringComparison.Ordinal));
        var binding = chart.Get("ValidatingAdmissionPolicyBinding", "jobs-rel-jobs-manager-secrets");
        Assert.Equal(["Deny"], binding["spec"]!["validationActions"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["team-a", "team-b"], binding["spec"]!["matchResources"]!["namespaceSelector"]!["matchExpressions"]![0]!["values"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task Template_ClusterWithoutAdmissionPolicies_NoPolicyRendered()
    {
        var chart = await _helm.TemplateAsync();

        Assert.Empty(chart.OfKind("ValidatingAdmissionPolicy"));
    }

    [Fact]
    public async Task Template_Default_NoWildcardsAndNothingForTheProxy()
    {
        var chart = await _helm.TemplateAsync();

        var role = chart.Get("Role", "rel-jobs-manager");
        Assert.DoesNotContain("*", role.FindAll("verbs").Concat(role.FindAll("resources")).Concat(role.FindAll("apiGroups")).SelectMany(a => a!.AsArray()).Select(v => v!.GetValue<string>()));
        Assert.DoesNotContain(chart.Objects, o => o.FindAll("subjects").SelectMany(s => s!.AsArray()).Any(s => s!.Str("name") == "rel-requests-proxy"));
        Assert.Equal("false", chart.Get("ServiceAccount", "rel-requests-proxy").Str("automountServiceAccountToken"));
    }

    private static void AssertJobsManagerSubject(JsonObject binding)
    {
        var subject = Assert.Single(binding["subjects"]!.AsArray());
        Assert.Equal(("ServiceAccount", "rel-jobs-manager", HelmChart.Namespace), (subject!.Str("kind"), subject.Str("name"), subject.Str("namespace")));
    }

    private static string Flag(bool value) => value.ToString().ToLowerInvariant();

    private static IEnumerable<string> Flatten(JsonObject role) =>
        from rule in role["rules"]!.AsArray()
        from apiGroup in rule!["apiGroups"]!.AsArray()
        from resource in rule["resources"]!.AsArray()
        from resourceName in rule["resourceNames"]?.AsArray().Select(n => n!.GetValue<string>()) ?? [string.Empty]
        from verb in rule["verbs"]!.AsArray()
        select $"{apiGroup}|{resource}|{resourceName}|{verb}";
}
