using k8s;
using k8s.Models;

namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// One allow rule of the fake's RBAC emulation, with Kubernetes' semantics: verbs, API groups and
/// resources match exactly or by <c>*</c>; a rule with resource names matches only requests that
/// name one of them (never <c>create</c> or <c>list</c>, whose URL carries no name); a rule from
/// a Role applies only in that Role's namespace.
/// </summary>
public sealed record FakeRbacRule(
    IReadOnlyList<string> Verbs,
    IReadOnlyList<string> ApiGroups,
    IReadOnlyList<string> Resources,
    IReadOnlyList<string>? ResourceNames = null,
    string? Namespace = null)
{
    /// <summary>The rules of a Role; they apply in the Role's namespace only.</summary>
    private static IReadOnlyList<FakeRbacRule> FromRole(V1Role role)
    {
        ArgumentNullException.ThrowIfNull(role);
        return (role.Rules ?? []).Select(r => FromPolicyRule(r, role.Metadata?.NamespaceProperty ?? "default")).ToList();
    }

    /// <summary>The rules of a ClusterRole; they apply in every namespace and at cluster scope.</summary>
    private static IReadOnlyList<FakeRbacRule> FromClusterRole(V1ClusterRole role)
    {
        ArgumentNullException.ThrowIfNull(role);
        return (role.Rules ?? []).Select(r => FromPolicyRule(r, null)).ToList();
    }

    /// <summary>
    /// The rules of every Role and ClusterRole in a YAML stream (e.g. <c>helm template</c> output). A
    /// ClusterRole that RoleBindings of the stream reference applies only in those bindings'
    /// namespaces (as Kubernetes grants it), unless a ClusterRoleBinding also references it; one
    /// that no binding references applies everywhere.
    /// </summary>
    public static IReadOnlyList<FakeRbacRule> FromYaml(string yaml)
    {
        var rules = new List<FakeRbacRule>();
        var documents = KubernetesYaml.LoadAllFromString(yaml);
        var roleBindings = documents.OfType<V1RoleBinding>().Where(b => b.RoleRef?.Kind == "ClusterRole").ToList();
        var clusterBound = documents.OfType<V1ClusterRoleBinding>().Select(b => b.RoleRef?.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            switch (document)
            {
                case V1Role role:
                    rules.AddRange(FromRole(role));
                    break;
                case V1ClusterRole clusterRole:
                    var namespaces = roleBindings.Where(b => b.RoleRef.Name == clusterRole.Metadata?.Name).Select(b => b.Metadata?.NamespaceProperty ?? "default").ToList();
                    if (namespaces.Count == 0 || clusterBound.Contains(clusterRole.Metadata?.Name))
                    {
                        rules.AddRange(FromClusterRole(clusterRole));
                    }
                    else
                    {
                        rules.AddRange(namespaces.SelectMany(ns => (clusterRole.Rules ?? []).Select(r => FromPolicyRule(r, ns))));
                    }

                    break;
            }
        }

        return rules;
    }

    private static FakeRbacRule FromPolicyRule(V1PolicyRule rule, string? ns)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new FakeRbacRule(
            rule.Verbs?.ToList() ?? [],
            rule.ApiGroups?.ToList() ?? [],
            rule.Resources?.ToList() ?? [],
            rule.ResourceNames is { Count: > 0 } names ? names.ToList() : null,
            ns);
    }

    internal bool Allows(string verb, string apiGroup, string resource, string? ns, string? name)
    {
        if (Namespace is not null && Namespace != ns)
        {
            return false;
        }

        if (!Matches(Verbs, verb) || !Matches(ApiGroups, apiGroup) || !Matches(Resources, resource))
        {
            return false;
        }

        return ResourceNames is null || (name is not null && ResourceNames.Contains(name));
    }

    private static bool Matches(IReadOnlyList<string> allowed, string value) => allowed.Contains("*") || allowed.Contains(value);
}
