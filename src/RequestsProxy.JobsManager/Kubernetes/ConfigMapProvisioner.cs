using System.Globalization;
using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.Legacy;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// Creates, at start-up, each of the jobs-manager's ConfigMaps that does not exist yet — the
/// revocation shards, the job ledger and the legacy token list — empty and labelled. The chart no
/// longer renders them: a Helm manifest that carried their live data let <c>helm rollback</c>
/// re-apply an old copy (revoked tokens accepted again), let an upgrade overwrite a write made
/// between its render and its apply, and let <c>helm template</c> (Argo CD, Flux) reset them to
/// empty (docs/operations.md#upgrade). An existing object is never written here, whatever it holds;
/// a 409 on create is another writer that created it first (fine). Only at start-up: a ConfigMap
/// deleted while the jobs-manager runs is not recreated behind the proxies' backs (their last
/// loaded copy stays in force; the writes that need it fail, and alert, until an operator acts).
/// </summary>
internal sealed partial class ConfigMapProvisioner(IKubernetes client, JobsManagerOptions options, ILogger<ConfigMapProvisioner> logger) : IStoreProvisioner
{
    /// <summary>The label the created objects carry instead of Helm's: who made them.</summary>
    public const string ManagedBy = "jobs-manager";

    private volatile string? _problem = "the jobs-manager's ConfigMaps have not been checked yet";

    public string? Problem => _problem;

    /// <summary>Every ConfigMap the jobs-manager reads and writes, with its key and first content.</summary>
    public IReadOnlyList<(string Name, string Component, string Key, byte[] Content, int? Shard)> Objects { get; } = Describe(options);

    public async Task<bool> EnsureAsync(CancellationToken cancellationToken)
    {
        List<string> problems = [];
        foreach (var o in Objects)
        {
            try
            {
                await EnsureAsync(o.Name, o.Component, o.Key, o.Content, o.Shard, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e)
            {
                var status = (int)e.Response.StatusCode;
                var hint = e.Response.StatusCode == HttpStatusCode.Forbidden
                    ? " (the jobs-manager's Role needs create on configmaps in this namespace: a chart older than the jobs-manager?)"
                    : "";
                problems.Add($"ConfigMap '{o.Name}' does not exist and could not be created: {status} {e.Response.ReasonPhrase}{hint}");
                Log.CreateFailed(logger, o.Name, options.Namespace!, status, e);
            }
            catch (HttpRequestException e)
            {
                problems.Add($"ConfigMap '{o.Name}' could not be checked: {e.Message}");
                Log.CreateFailed(logger, o.Name, options.Namespace!, 0, e);
            }
        }

        _problem = problems.Count == 0 ? null : string.Join("; ", problems);
        return problems.Count == 0;
    }

    private async Task EnsureAsync(string name, string component, string key, byte[] content, int? shard, CancellationToken cancellationToken)
    {
        // Read first, so a Role without create (an older chart) still starts when everything exists.
        try
        {
            await client.CoreV1.ReadNamespacedConfigMapAsync(name, options.Namespace!, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["app.kubernetes.io/name"] = "requests-proxy",
            ["app.kubernetes.io/component"] = component,
            ["app.kubernetes.io/part-of"] = "requests-proxy",
            ["app.kubernetes.io/managed-by"] = ManagedBy,
        };
        if (options.ReleaseName is { } release)
        {
            // Not app.kubernetes.io/instance: Argo CD's default label tracking would count an object carrying it as part of
            // the Application and prune it (it is in no rendered manifest). The annotations below say the same to Argo CD.
            labels["requests-proxy.io/release"] = release;
        }

        if (shard is { } number)
        {
            labels["requests-proxy.io/revocation-shard"] = number.ToString(CultureInfo.InvariantCulture);
        }

        var configMap = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = options.Namespace,
                Labels = labels,
                Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    // In no manifest of this chart; but should a manifest ever name it (a failed rollback to a revision of the
                    // chart that rendered it becomes the "current" one of the next upgrade), Helm deletes nothing marked keep.
                    ["helm.sh/resource-policy"] = "keep",
                    ["argocd.argoproj.io/compare-options"] = "IgnoreExtraneous",
                    ["argocd.argoproj.io/sync-options"] = "Prune=false",
                },
            },
            Data = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = Encoding.UTF8.GetString(content) },
        };
        try
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(configMap, options.Namespace!, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Created(logger, name, options.Namespace!);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Created by someone else between our read and our create: theirs stays, untouched.
            Log.CreatedByOther(logger, name);
        }
    }

    private static List<(string, string, string, byte[], int?)> Describe(JobsManagerOptions options)
    {
        var list = new List<(string, string, string, byte[], int?)>();
        for (var i = 0; i < options.RevocationShards; i++)
        {
            list.Add((KubernetesStores.RevocationShardName(options.RevokedConfigMapName, i), "revocations", KubernetesStores.RevocationKey,
                RevocationListCodec.Instance.Serialize(RevocationList.Empty), i));
        }

        list.Add((options.StateConfigMapName, "jobs-manager-state", KubernetesStores.JobLedgerKey, JobLedgerCodec.Instance.Serialize(JobLedgerCodec.Instance.Empty), null));
        list.Add((options.LegacyTokensConfigMapName, "legacy-tokens", KubernetesStores.LegacyTokensKey, LegacyTokenListCodec.Instance.Serialize(LegacyTokenList.Empty), null));
        return list;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 540, Level = LogLevel.Information, Message = "Created ConfigMap {ConfigMap} in namespace {Namespace} (empty; it did not exist)")]
        public static partial void Created(ILogger logger, string configMap, string @namespace);

        [LoggerMessage(EventId = 541, Level = LogLevel.Information, Message = "ConfigMap {ConfigMap} was created by another writer at the same time (409); keeping theirs")]
        public static partial void CreatedByOther(ILogger logger, string configMap);

        [LoggerMessage(EventId = 542, Level = LogLevel.Error, Message = "ConfigMap {ConfigMap} in namespace {Namespace} is missing and could not be created (status {Status}); retried on the next pass")]
        public static partial void CreateFailed(ILogger logger, string configMap, string @namespace, int status, Exception exception);
    }
}
