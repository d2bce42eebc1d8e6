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

    /// <summary>The rules of every Role and ClusterRole in a YAML stream (e.g. <c>helm template</c> output).</summary>
    public static IReadOnlyList<FakeRbacRule> FromYaml(string yaml)
    {
        var rules = new List<FakeRbacRule>();
        foreach (var document in KubernetesYaml.LoadAllFromString(yaml))
        {
            switch (document)
            {
                case V1Role role:
                    rules.AddRange(FromRole(role));
                    break;
                case V1ClusterRole clusterRole:
                    rules.AddRange(FromClusterRole(clusterRole));
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
