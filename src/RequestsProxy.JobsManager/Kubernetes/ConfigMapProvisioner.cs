using System.Globalization;
using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Settings;
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
/// Nor is one recreated at a later start while the others exist: all missing (or the others still as
/// an interrupted first start left them: made here, empty) is a fresh install, a shard beyond the
/// count the existing shards were made for is growth, anything else was deleted —
/// an empty copy would forget what it held (a revoked token accepted again by every proxy, running
/// jobs unknown), so it stays a problem naming the object until it is restored or the operator
/// accepts the loss (<see cref="JobsManagerOptions.RecreateMissingStores"/>).
/// </summary>
internal sealed partial class ConfigMapProvisioner(IKubernetes client, JobsManagerOptions options, ILogger<ConfigMapProvisioner> logger) : IStoreProvisioner
{
    /// <summary>The label the created objects carry instead of Helm's: who made them.</summary>
    public const string ManagedBy = "jobs-manager";

    /// <summary>On each created shard: how many shards there were meant to be, so a later start tells growth from deletion.</summary>
    public const string ShardCountAnnotation = "requests-proxy.io/revocation-shards";

    private volatile string? _problem = "the jobs-manager's ConfigMaps have not been checked yet";

    public string? Problem => _problem;

    /// <summary>Every ConfigMap the jobs-manager reads and writes, with its key and first content.</summary>
    public IReadOnlyList<(string Name, string Component, string Key, byte[] Content, int? Shard)> Objects { get; } = Describe(options);

    public async Task<bool> EnsureAsync(CancellationToken cancellationToken)
    {
        List<string> problems = [];
        List<(string Name, string Component, string Key, byte[] Content, int? Shard)> missing = [];
        List<(int? Shard, V1ConfigMap ConfigMap)> existing = [];
        var pristine = true;
        foreach (var o in Objects)
        {
            // Read first, so a Role without create (an older chart) still starts when everything exists.
            try
            {
                var configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(o.Name, options.Namespace!, cancellationToken: cancellationToken).ConfigureAwait(false);
                existing.Add((o.Shard, configMap));
                pristine &= IsAsCreated(configMap, o.Key, o.Content);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                missing.Add(o);
            }
            catch (HttpOperationException e)
            {
                problems.Add($"ConfigMap '{o.Name}' could not be read: {(int)e.Response.StatusCode} {e.Response.ReasonPhrase}");
                Log.ReadFailed(logger, o.Name, options.Namespace!, (int)e.Response.StatusCode, e);
            }
            catch (HttpRequestException e)
            {
                problems.Add($"ConfigMap '{o.Name}' could not be checked: {e.Message}");
                Log.ReadFailed(logger, o.Name, options.Namespace!, 0, e);
            }
        }

        // These reads are not handed on to the stores, which read each ConfigMap again for the restore and the
        // first pass (one GET per object, once per start): this method is retried every pass until it succeeds,
        // so a copy kept here could reach a restore minutes later, and the restore must read the ledger as it is
        // then (before it lists the runtime's jobs), never an older copy.

        // Nothing exists (a fresh install), or only what an interrupted first start created, still empty: nothing to lose.
        var fresh = problems.Count == 0 && pristine;
        var shardsMeant = ShardsMeant(existing);
        foreach (var o in missing)
        {
            var grown = o.Shard is { } index && shardsMeant is { } meant && index >= meant;
            if (!fresh && !grown && !options.RecreateMissingStores)
            {
                problems.Add($"ConfigMap '{o.Name}' is missing while the other stores exist: it was deleted, and an empty one would forget {WhatIsLost(o.Component)}. " +
                    $"Restore it (kubectl apply of a backup), or set {EnvironmentVariables.RecreateMissingStores}=true to recreate it empty and accept the loss");
                Log.DeletedNotRecreated(logger, o.Name, options.Namespace!);
                continue;
            }

            try
            {
                await CreateAsync(o.Name, o.Component, o.Key, o.Content, o.Shard, cancellationToken).ConfigureAwait(false);
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
                problems.Add($"ConfigMap '{o.Name}' could not be created: {e.Message}");
                Log.CreateFailed(logger, o.Name, options.Namespace!, 0, e);
            }
        }

        _problem = problems.Count == 0 ? null : string.Join("; ", problems);
        return problems.Count == 0;
    }

    /// <summary>
    /// How many shards the existing ones were made for: the largest count they recorded when this
    /// class created them, else (shards rendered by an older chart) one past the highest existing
    /// index; null when no shard exists (then none counts as growth).
    /// </summary>
    private static int? ShardsMeant(List<(int? Shard, V1ConfigMap ConfigMap)> existing)
    {
        int? meant = null;
        foreach (var (shard, configMap) in existing)
        {
            if (shard is not { } index)
            {
                continue;
            }

            var recorded = configMap.Metadata?.Annotations?.TryGetValue(ShardCountAnnotation, out var text) == true
                && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : index + 1;
            meant = Math.Max(meant ?? 0, Math.Max(recorded, index + 1));
        }

        return meant;
    }

    private static bool IsAsCreated(V1ConfigMap configMap, string key, byte[] content) =>
        configMap.Metadata?.Labels?.TryGetValue("app.kubernetes.io/managed-by", out var by) == true && by == ManagedBy
        && configMap.Data?.TryGetValue(key, out var data) == true && data == Encoding.UTF8.GetString(content);

    private static string WhatIsLost(string component) => component switch
    {
        "revocations" => "every revocation it held (those stopped jobs' tokens would be accepted again until they expire)",
        "jobs-manager-state" => "every job it held (no refresh, so 401 at expiry, and no stop: their tokens could not be revoked)",
        _ => "every live legacy token it listed (those jobs would be refused at every proxy)",
    };

    private async Task CreateAsync(string name, string component, string key, byte[] content, int? shard, CancellationToken cancellationToken)
    {
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

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // In no manifest of this chart; but should a manifest ever name it (a failed rollback to a revision of the
            // chart that rendered it becomes the "current" one of the next upgrade), Helm deletes nothing marked keep.
            ["helm.sh/resource-policy"] = "keep",
            ["argocd.argoproj.io/compare-options"] = "IgnoreExtraneous",
            ["argocd.argoproj.io/sync-options"] = "Prune=false",
        };
        if (shard is { } number)
        {
            labels["requests-proxy.io/revocation-shard"] = number.ToString(CultureInfo.InvariantCulture);
            annotations[ShardCountAnnotation] = options.RevocationShards.ToString(CultureInfo.InvariantCulture);
        }

        var configMap = new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = options.Namespace,
                Labels = labels,
                Annotations = annotations,
            },
            Data = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = Encoding.UTF8.GetString(content) },
        };
        if (key == KubernetesStores.LegacyTokensKey)
        {
            // Born with this mode's issuing marker: a fresh stateless install's proxies see 'closed' in the kubelet's first copy.
            configMap.Data[KubernetesStores.LegacyIssuerKey] = Encoding.UTF8.GetString(LegacyIssuerCodec.Instance.Serialize(LegacyIssuer.Of(options.Stateless)));
        }

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

        [LoggerMessage(EventId = 543, Level = LogLevel.Error, Message = "ConfigMap {ConfigMap} in namespace {Namespace} is missing while the other stores exist: not recreated empty (restore it, or set JOBS_MANAGER_RECREATE_MISSING_STORES=true to accept the loss)")]
        public static partial void DeletedNotRecreated(ILogger logger, string configMap, string @namespace);

        [LoggerMessage(EventId = 542, Level = LogLevel.Error, Message = "ConfigMap {ConfigMap} in namespace {Namespace} is missing and could not be created (status {Status}); retried on the next pass")]
        public static partial void CreateFailed(ILogger logger, string configMap, string @namespace, int status, Exception exception);

        [LoggerMessage(EventId = 544, Level = LogLevel.Error, Message = "ConfigMap {ConfigMap} in namespace {Namespace} could not be read (status {Status}; 0: no answer), so whether it exists is unknown; the jobs-manager stays unready, retried on the next pass")]
        public static partial void ReadFailed(ILogger logger, string configMap, string @namespace, int status, Exception exception);
    }
}
