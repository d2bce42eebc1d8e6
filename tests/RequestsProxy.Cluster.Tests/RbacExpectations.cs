namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// What the real RBAC authorizer must answer for the chart's service accounts, as one table, the
/// same in both clusterScope modes (issue 14: nothing is granted outside the release namespace and
/// the job namespaces). Rows name the release namespace (no namespace), the job namespace
/// (<see cref="Jobs"/>) or a namespace of someone else (<see cref="Other"/>).
/// </summary>
internal static class RbacExpectations
{
    public const string Other = "other";
    public const string Jobs = "jobs";

    /// <summary>The jobs-manager's service account.</summary>
    public static IReadOnlyList<RbacCase> JobsManager(string release)
    {
        var keys = $"{release}-requests-proxy-keys";
        var revoked = $"{release}-requests-proxy-revoked";
        var ledger = $"{release}-jobs-manager-state";
        var admin = $"{release}-requests-proxy-admin";
        var upstream = $"{release}-requests-proxy-upstream";
        var token = "train-1-requests-proxy-token";
        return
        [
            // Every call the jobs-manager makes (docs/architecture.md): named objects in the release namespace ...
            new("get", "", "secrets", keys, RbacVerdict.Allowed),
            new("get", "", "configmaps", revoked, RbacVerdict.Allowed),
            new("update", "", "configmaps", revoked, RbacVerdict.Allowed),
            new("patch", "", "configmaps", revoked, RbacVerdict.Allowed),
            new("get", "", "configmaps", ledger, RbacVerdict.Allowed),
            new("update", "", "configmaps", ledger, RbacVerdict.Allowed),
            new("get", "", "configmaps", $"{release}-requests-proxy-legacy-tokens", RbacVerdict.Allowed),
            new("update", "", "configmaps", $"{release}-requests-proxy-legacy-tokens", RbacVerdict.Allowed),
            // Creating them when missing (the chart renders no live data): create cannot be scoped by name; it answers with what was sent only.
            new("create", "", "configmaps", null, RbacVerdict.Allowed),
            // ... Jobs and their token Secrets in the job namespace (Secrets written whole, never read).
            new("create", "", "secrets", null, RbacVerdict.Allowed, Jobs),
            new("update", "", "secrets", token, RbacVerdict.Allowed, Jobs),
            new("create", "batch", "jobs", null, RbacVerdict.Allowed, Jobs),
            new("get", "batch", "jobs", "train-1", RbacVerdict.Allowed, Jobs),
            new("list", "batch", "jobs", null, RbacVerdict.Allowed, Jobs),
            new("watch", "batch", "jobs", null, RbacVerdict.Allowed, Jobs),
            new("delete", "batch", "jobs", "train-1", RbacVerdict.Allowed, Jobs),
            // Adopt mode's Warning on a labelled Job it refuses a token (create answers with the Event sent).
            new("create", "", "events", null, RbacVerdict.Allowed, Jobs),
            new("create", "", "events", null, RbacVerdict.Denied),
            new("list", "", "events", null, RbacVerdict.Denied, Jobs),
            new("patch", "", "events", null, RbacVerdict.Denied, Jobs),
            // Kubernetes cannot name a Secret that does not exist yet, so update in a job namespace is
            // unscoped: it can replace (never read: the answer holds only what was sent) a Secret of
            // that namespace it did not create. Hence job namespaces hold nothing else; on Kubernetes
            // 1.30+ the chart's ValidatingAdmissionPolicy refuses it (docs/operations.md#job-namespaces).
            new("update", "", "secrets", "someone-elses", RbacVerdict.Allowed, Jobs),

            // No verb that answers with a Secret, in any namespace: a merge patch (even `{}`) returns
            // the whole object, so patch is refused like get, list and watch — the escalation of issue 14.
            new("patch", "", "secrets", keys, RbacVerdict.Denied),
            new("patch", "", "secrets", admin, RbacVerdict.Denied),
            new("patch", "", "secrets", upstream, RbacVerdict.Denied),
            new("patch", "", "secrets", token, RbacVerdict.Denied, Jobs),
            new("patch", "", "secrets", "default-token-abcde", RbacVerdict.Denied, Jobs),
            new("patch", "", "secrets", "generic-garbage-collector-token-abcde", RbacVerdict.Denied, Other),
            new("get", "", "secrets", admin, RbacVerdict.Denied),
            new("get", "", "secrets", "someone-elses", RbacVerdict.Denied),
            new("get", "", "secrets", token, RbacVerdict.Denied, Jobs),
            new("get", "", "secrets", "default-token-abcde", RbacVerdict.Denied, Jobs),
            new("list", "", "secrets", null, RbacVerdict.Denied),
            new("list", "", "secrets", null, RbacVerdict.Denied, Jobs),
            new("watch", "", "secrets", null, RbacVerdict.Denied),
            new("watch", "", "secrets", null, RbacVerdict.Denied, Jobs),
            new("delete", "", "secrets", token, RbacVerdict.Denied, Jobs),

            // The release namespace: no Secret created or replaced, no Job, nothing unnamed.
            new("create", "", "secrets", null, RbacVerdict.Denied),
            new("update", "", "secrets", keys, RbacVerdict.Denied),
            new("update", "", "secrets", admin, RbacVerdict.Denied),
            new("delete", "", "secrets", keys, RbacVerdict.Denied),
            new("create", "batch", "jobs", null, RbacVerdict.Denied),
            new("list", "batch", "jobs", null, RbacVerdict.Denied),
            new("get", "", "configmaps", "someone-elses", RbacVerdict.Denied),
            new("update", "", "configmaps", "someone-elses", RbacVerdict.Denied),
            new("list", "", "configmaps", null, RbacVerdict.Denied),
            new("watch", "", "configmaps", null, RbacVerdict.Denied),
            new("patch", "", "configmaps", "someone-elses", RbacVerdict.Denied),
            new("delete", "", "configmaps", "someone-elses", RbacVerdict.Denied),
            new("delete", "", "configmaps", revoked, RbacVerdict.Denied),
            new("delete", "", "configmaps", ledger, RbacVerdict.Denied),
            new("patch", "", "configmaps", ledger, RbacVerdict.Denied),

            // The job namespace: nothing beyond Jobs and writing Secrets.
            new("update", "batch", "jobs", "train-1", RbacVerdict.Denied, Jobs),
            new("patch", "batch", "jobs", "train-1", RbacVerdict.Denied, Jobs),
            new("update", "batch", "jobs/finalizers", "train-1", RbacVerdict.Denied, Jobs),
            new("create", "", "pods", null, RbacVerdict.Denied, Jobs),
            new("get", "", "pods", null, RbacVerdict.Denied, Jobs),
            new("get", "", "pods/log", null, RbacVerdict.Denied, Jobs),
            new("create", "", "pods/exec", null, RbacVerdict.Denied, Jobs),
            new("get", "", "configmaps", null, RbacVerdict.Denied, Jobs),
            new("create", "", "serviceaccounts", null, RbacVerdict.Denied, Jobs),
            new("create", "", "serviceaccounts/token", "default", RbacVerdict.Denied, Jobs),
            new("create", "rbac.authorization.k8s.io", "rolebindings", null, RbacVerdict.Denied, Jobs),
            new("escalate", "rbac.authorization.k8s.io", "roles", null, RbacVerdict.Denied, Jobs),
            new("create", "apps", "deployments", null, RbacVerdict.Denied, Jobs),

            // Everywhere else nothing, in both scopes (before issue 14 a ClusterRole granted all of this cluster-wide).
            new("create", "batch", "jobs", null, RbacVerdict.Denied, Other),
            new("list", "batch", "jobs", null, RbacVerdict.Denied, Other),
            new("create", "", "secrets", null, RbacVerdict.Denied, Other),
            new("update", "", "secrets", "someone-elses", RbacVerdict.Denied, Other),
            new("get", "", "secrets", keys, RbacVerdict.Denied, Other),
            new("list", "", "secrets", null, RbacVerdict.Denied, Other),
            new("create", "", "serviceaccounts/token", null, RbacVerdict.Denied, Other),
            new("delete", "", "configmaps", revoked, RbacVerdict.Denied, Other),
            new("create", "", "configmaps", null, RbacVerdict.Denied, Other),
            new("create", "", "configmaps", null, RbacVerdict.Denied, Jobs),
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
        new("create", "", "secrets", null, RbacVerdict.Denied, Jobs),
        new("list", "", "secrets", null, RbacVerdict.Denied, Other),
    ];

    /// <summary>The account training pods run as (the job namespace's <c>default</c>, its token never mounted): no rights at all.</summary>
    public static IReadOnlyList<RbacCase> TrainingPods() =>
    [
        new("get", "", "secrets", "train-1-requests-proxy-token", RbacVerdict.Denied, Jobs),
        new("list", "", "secrets", null, RbacVerdict.Denied, Jobs),
        new("list", "", "pods", null, RbacVerdict.Denied, Jobs),
        new("create", "batch", "jobs", null, RbacVerdict.Denied, Jobs),
        new("list", "batch", "jobs", null, RbacVerdict.Denied, Jobs),
        new("create", "", "serviceaccounts/token", "default", RbacVerdict.Denied, Jobs),
        new("get", "", "configmaps", null, RbacVerdict.Denied, Jobs),
        new("get", "", "secrets", "someone-elses", RbacVerdict.Denied),
    ];
}

/// <summary>One row: may the service account do <c>Verb</c> on <c>Group/Resource[/Name]</c> in the release (or job, or other) namespace.</summary>
internal sealed record RbacCase(string Verb, string Group, string Resource, string? Name, RbacVerdict Expected, string? Namespace = null)
{
    public override string ToString() => $"{Verb} {(Group.Length == 0 ? "" : Group + "/")}{Resource}{(Name is null ? "" : "/" + Name)}{(Namespace is null ? "" : $" in the {Namespace} namespace")}";
}

internal enum RbacVerdict
{
    Allowed,
    Denied,
}
