using System.Collections.Frozen;
using System.Text.Json;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// What the jobs-manager's unscoped <c>configmaps: create</c> in the release namespace (RBAC cannot scope a create
/// by name) may create: its store ConfigMaps only — the revocation list's shards, the job ledger and the legacy
/// token list, by the names the chart computes from its values and hands to both this webhook
/// (<c>REQUESTS_PROXY_ADMISSION_STORE_CONFIGMAPS</c>) and the jobs-manager. The chart's
/// <c>jobs-manager-configmap-policy.yaml</c> says the same as a ValidatingAdmissionPolicy on 1.30+. Its update
/// and patch rights are name-scoped already; every other user, operation and resource is allowed.
/// </summary>
internal sealed class ConfigMapAdmissionPolicy(string jobsManagerUser, string releaseNamespace, IEnumerable<string> storeNames) : IAdmissionPolicy
{
    public const string CreateRule = "create-store-configmaps-only";
    public const string NotAConfigMap = "not-a-configmap";

    private readonly FrozenSet<string> _stores = storeNames.ToFrozenSet(StringComparer.Ordinal);

    public string Path => AdmissionEndpoints.ConfigMapsPath;

    public string Kind => "ConfigMap";

    public AdmissionDecision Decide(AdmissionRequest request)
    {
        if (!string.Equals(request.UserInfo?.Username, jobsManagerUser, StringComparison.Ordinal))
        {
            return AdmissionDecision.Allow(SecretAdmissionPolicy.NotTheJobsManager);
        }

        if (request.Resource is not { Group: null or "", Resource: "configmaps" } || !string.IsNullOrEmpty(request.SubResource))
        {
            return AdmissionDecision.Allow(NotAConfigMap);
        }

        if (request.Operation != "CREATE")
        {
            return AdmissionDecision.Allow(SecretAdmissionPolicy.NotJudgedOperation);
        }

        var name = request.Object is { ValueKind: JsonValueKind.Object } configMap && SecretReferences.Property(configMap, "metadata") is { } metadata
            && SecretReferences.Text(metadata, "name") is { Length: > 0 } own ? own : request.Name ?? "";
        if (request.Namespace == releaseNamespace && _stores.Contains(name))
        {
            return AdmissionDecision.Allow(CreateRule);
        }

        return AdmissionDecision.Deny(CreateRule,
            $"requests-proxy configmap admission, rule {CreateRule}: the jobs-manager may create only its store ConfigMaps in {releaseNamespace} " +
            $"({string.Join(", ", _stores.Order(StringComparer.Ordinal))}); 'metadata.name' of ConfigMap {request.Namespace}/{(name.Length == 0 ? "(no name)" : name)} is none of them");
    }
}
