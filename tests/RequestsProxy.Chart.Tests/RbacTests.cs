using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>The jobs-manager gets exactly the calls of docs/architecture.md, in both scopes.</summary>
public sealed class RbacTests : IDisposable
{
    // (apiGroup, resource, resourceName or "", verb): the contract table, flattened.
    private static readonly string[] Expected =
    [
        "|secrets|rel-requests-proxy-keys|get",
        .. RevokedShards.SelectMany(name => new[] { $"|configmaps|{name}|get", $"|configmaps|{name}|update", $"|configmaps|{name}|patch" }),
        "|configmaps|rel-jobs-manager-state|get",
        "|configmaps|rel-jobs-manager-state|update",
        "|secrets||create",
        "|secrets||patch",
        "batch|jobs||create",
        "batch|jobs||get",
        "batch|jobs||list",
        "batch|jobs||delete",
    ];

    private static string[] RevokedShards => ["rel-requests-proxy-revoked", .. Enumerable.Range(1, 15).Select(i => $"rel-requests-proxy-revoked-{i}")];

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData(false, "Role", "RoleBinding", "rel-jobs-manager")]
    [InlineData(true, "ClusterRole", "ClusterRoleBinding", "jobs-rel-jobs-manager")]
    public async Task Template_ClusterScope_ExactRulesInTheRightKind(bool clusterScope, string roleKind, string bindingKind, string name)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={clusterScope.ToString().ToLowerInvariant()}"]);

        var role = Assert.Single(chart.Objects, o => o.Str("kind") is "Role" or "ClusterRole");
        Assert.Equal(roleKind, role.Str("kind"));
        Assert.Equal(name, role.Str("metadata", "name"));
        Assert.Equal(clusterScope ? null : HelmChart.Namespace, role.Str("metadata", "namespace"));
        Assert.Equal(Expected.Order(StringComparer.Ordinal), Flatten(role).Order(StringComparer.Ordinal));

        var binding = Assert.Single(chart.Objects, o => o.Str("kind") is "RoleBinding" or "ClusterRoleBinding");
        Assert.Equal(bindingKind, binding.Str("kind"));
        Assert.Equal(roleKind, binding.Str("roleRef", "kind"));
        Assert.Equal(name, binding.Str("roleRef", "name"));
        var subject = Assert.Single(binding["subjects"]!.AsArray());
        Assert.Equal("ServiceAccount", subject!.Str("kind"));
        Assert.Equal("rel-jobs-manager", subject.Str("name"));
        Assert.Equal(HelmChart.Namespace, subject.Str("namespace"));
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

    private static IEnumerable<string> Flatten(JsonObject role) =>
        from rule in role["rules"]!.AsArray()
        from apiGroup in rule!["apiGroups"]!.AsArray()
        from resource in rule["resources"]!.AsArray()
        from resourceName in rule["resourceNames"]?.AsArray().Select(n => n!.GetValue<string>()) ?? [string.Empty]
        from verb in rule["verbs"]!.AsArray()
        select $"{apiGroup}|{resource}|{resourceName}|{verb}";
}
