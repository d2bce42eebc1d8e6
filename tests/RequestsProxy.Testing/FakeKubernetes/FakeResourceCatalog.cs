namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// The resources the fake serves: the ones the jobs-manager uses (secrets, configmaps, jobs) and
/// the kinds of the chart, which <c>helm template --dry-run=server</c> maps and reads.
/// </summary>
internal static class FakeResourceCatalog
{
    public static readonly IReadOnlyList<string> Verbs =
        ["create", "delete", "get", "list", "patch", "update"];

    public static readonly IReadOnlyList<FakeResourceType> All =
    [
        new("", "v1", "namespaces", "namespace", "Namespace", Namespaced: false),
        new("", "v1", "configmaps", "configmap", "ConfigMap", Namespaced: true),
        new("", "v1", "secrets", "secret", "Secret", Namespaced: true),
        new("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", Namespaced: true),
        new("", "v1", "services", "service", "Service", Namespaced: true),
        new("", "v1", "pods", "pod", "Pod", Namespaced: true),
        new("", "v1", "events", "event", "Event", Namespaced: true),
        new("batch", "v1", "jobs", "job", "Job", Namespaced: true),
        new("apps", "v1", "deployments", "deployment", "Deployment", Namespaced: true),
        new("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", Namespaced: true),
        new("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", Namespaced: true),
        new("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", Namespaced: true),
        new("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", Namespaced: true),
        new("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", Namespaced: false),
        new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", Namespaced: false),
        new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", Namespaced: false),
    ];

    public static FakeResourceType? ByPath(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    public static FakeResourceType? ByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(t => t.ApiVersion == apiVersion && t.Kind == kind);
}
