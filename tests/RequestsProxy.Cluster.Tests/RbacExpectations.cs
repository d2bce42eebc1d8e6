namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// What the real RBAC authorizer must answer for the chart's service accounts, as one table.
/// Issue 14 changes the jobs-manager's rights: edit the rows here (the rows marked
/// <see cref="RbacVerdict.AllowedKnownBad"/> are today's accepted weaknesses, expected to become Denied).
/// </summary>
internal static class RbacExpectations
{
    public const string Other = "other";

    /// <summary>The jobs-manager's service account, in the release namespace (or <see cref="Other"/> namespace).</summary>
    public static IReadOnlyList<RbacCase> JobsManager(string release, bool clusterScope)
    {
        var keys = $"{release}-requests-proxy-keys";
        var revoked = $"{release}-requests-proxy-revoked";
        var ledger = $"{release}-jobs-manager-state";
        var admin = $"{release}-requests-proxy-admin";
        var elsewhere = clusterScope ? RbacVerdict.Allowed : RbacVerdict.Denied;
        return
        [
            // Every call the jobs-manager makes (docs/architecture.md).
            new("get", "", "secrets", keys, RbacVerdict.Allowed),
            new("get", "", "configmaps", revoked, RbacVerdict.Allowed),
            new("update", "", "configmaps", revoked, RbacVerdict.Allowed),
            new("patch", "", "configmaps", revoked, RbacVerdict.Allowed),
            new("get", "", "configmaps", ledger, RbacVerdict.Allowed),
            new("update", "", "configmaps", ledger, RbacVerdict.Allowed),
            new("create", "", "secrets", null, RbacVerdict.Allowed),
            new("patch", "", "secrets", "train-1-requests-proxy-token", RbacVerdict.Allowed),
            new("create", "batch", "jobs", null, RbacVerdict.Allowed),
            new("get", "batch", "jobs", "train-1", RbacVerdict.Allowed),
            new("list", "batch", "jobs", null, RbacVerdict.Allowed),
            new("delete", "batch", "jobs", "train-1", RbacVerdict.Allowed),

            // Neighbours: other objects, other verbs.
            new("get", "", "secrets", admin, RbacVerdict.Denied),
            new("get", "", "secrets", "someone-elses", RbacVerdict.Denied),
            new("list", "", "secrets", null, RbacVerdict.Denied),
            new("watch", "", "secrets", null, RbacVerdict.Denied),
            new("update", "", "secrets", keys, RbacVerdict.Denied),
            new("delete", "", "secrets", keys, RbacVerdict.Denied),
            new("delete", "", "secrets", "train-1-requests-proxy-token", RbacVerdict.Denied),
            // Kubernetes cannot scope patch of not-yet-existing Secrets by name, so the jobs-manager
            // can patch every Secret of the namespace, the key ring and the admin token included: a
            // privilege escalation (issue 14 replaces the per-job Secret delivery).
            new("patch", "", "secrets", keys, RbacVerdict.AllowedKnownBad),
            new("patch", "", "secrets", admin, RbacVerdict.AllowedKnownBad),
            new("get", "", "configmaps", "someone-elses", RbacVerdict.Denied),
            new("update", "", "configmaps", "someone-elses", RbacVerdict.Denied),
            new("create", "", "configmaps", null, RbacVerdict.Denied),
            new("list", "", "configmaps", null, RbacVerdict.Denied),
            new("delete", "", "configmaps", revoked, RbacVerdict.Denied),
            new("delete", "", "configmaps", ledger, RbacVerdict.Denied),
            new("patch", "", "configmaps", ledger, RbacVerdict.Denied),
            new("update", "batch", "jobs", "train-1", RbacVerdict.Denied),
            new("patch", "batch", "jobs", "train-1", RbacVerdict.Denied),
            new("watch", "batch", "jobs", null, RbacVerdict.Denied),
            new("create", "", "pods", null, RbacVerdict.Denied),
            new("get", "", "pods", null, RbacVerdict.Denied),
            new("create", "apps", "deployments", null, RbacVerdict.Denied),
            new("create", "rbac.authorization.k8s.io", "rolebindings", null, RbacVerdict.Denied),
            new("escalate", "rbac.authorization.k8s.io", "roles", null, RbacVerdict.Denied),
            new("create", "", "serviceaccounts/token", null, RbacVerdict.Denied),

            // Other namespaces: denied with a Role; a ClusterRole grants the same verbs everywhere (by design).
            new("create", "batch", "jobs", null, elsewhere, Other),
            new("create", "", "secrets", null, elsewhere, Other),
            new("get", "", "secrets", keys, elsewhere, Other),
            new("get", "", "secrets", "someone-elses", RbacVerdict.Denied, Other),
            new("list", "", "secrets", null, RbacVerdict.Denied, Other),
            new("delete", "", "configmaps", revoked, RbacVerdict.Denied, Other),
        ];
    }

    /// <summary>The proxy's service account: it never calls the API, so it may do nothing.</summary>
    public static IReadOnlyList<RbacCase> Proxy(string release) =>
    [
        new("get", "", "secrets", $"{release}-requests-proxy-keys", RbacVerdict.Denied),
        new("list", "", "secrets", null, RbacVerdict.Denied),
        new("get", "", "configmaps", $"{release}-requests-proxy-revoked", RbacVerdict.Denied),
        new("update", "", "configmaps", $"{release}-requests-proxy-revoked", RbacVerdict.Denied),
        new("list", "", "configmaps", null, RbacVerdict.Denied),
        new("create", "batch", "jobs", null, RbacVerdict.Denied),
        new("list", "", "pods", null, RbacVerdict.Denied),
        new("create", "", "secrets", null, RbacVerdict.Denied),
        new("list", "", "secrets", null, RbacVerdict.Denied, Other),
    ];
}

/// <summary>One row: may the service account do <c>Verb</c> on <c>Group/Resource[/Name]</c> in the release (or other) namespace.</summary>
internal sealed record RbacCase(string Verb, string Group, string Resource, string? Name, RbacVerdict Expected, string? Namespace = null)
{
    public override string ToString() => $"{Verb} {(Group.Length == 0 ? "" : Group + "/")}{Resource}{(Name is null ? "" : "/" + Name)}{(Namespace is null ? "" : $" in namespace '{Namespace}'")}";
}

internal enum RbacVerdict
{
    Allowed,
    Denied,

    /// <summary>Allowed today and known to be wrong (see the row's comment); the test asserts today's answer.</summary>
    AllowedKnownBad,
}
