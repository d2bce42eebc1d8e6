using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.Legacy;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>Where the Kubernetes runtime keeps its documents: the chart's ConfigMaps (DESIGN §5).</summary>
internal static class KubernetesStores
{
    /// <summary>The job ledger's key in the state ConfigMap.</summary>
    public const string JobLedgerKey = "jobs.json";

    /// <summary>The revocation list's key in the revocation ConfigMap (the file name the proxy reads).</summary>
    public const string RevocationKey = RevocationFile.FileName;

    /// <summary>
    /// The revocation list over <see cref="JobsManagerOptions.RevocationShards"/> ConfigMaps: shard 0
    /// is the chart's original ConfigMap (so one shard is the old layout), shard i is
    /// <c>&lt;name&gt;-i</c>; each holds key revoked.json, and the proxy mounts shard i as revoked-i.json.
    /// </summary>
    public static ShardedRevocationStore Revocation(ConfigMapUpdater configMaps, JobsManagerOptions options, JobsManagerMetrics metrics) =>
        new([.. Enumerable.Range(0, options.RevocationShards).Select(i => new ConfigMapDocumentStore<RevocationList>(
            configMaps, RevocationShardName(options.RevokedConfigMapName, i), RevocationKey, RevocationListCodec.Instance, metrics.RevocationConflict))],
            DocumentLimits.ConfigMapBytes);

    public static string RevocationShardName(string configMapName, int shard) => shard == 0 ? configMapName : $"{configMapName}-{shard}";

    /// <summary>The legacy token list's key in its ConfigMap (the file name the proxy reads).</summary>
    public const string LegacyTokensKey = LegacyTokenList.FileName;

    public static ConfigMapDocumentStore<LegacyTokenList> LegacyTokens(ConfigMapUpdater configMaps, JobsManagerOptions options) =>
        new(configMaps, options.LegacyTokensConfigMapName, LegacyTokensKey, LegacyTokenListCodec.Instance, () => { });

    /// <summary>The issuing marker's key, beside the list in the same ConfigMap (the kubelet projects both from one version).</summary>
    public const string LegacyIssuerKey = Tokens.Legacy.LegacyIssuer.FileName;

    public static ConfigMapDocumentStore<Tokens.Legacy.LegacyIssuer> LegacyIssuer(ConfigMapUpdater configMaps, JobsManagerOptions options) =>
        new(configMaps, options.LegacyTokensConfigMapName, LegacyIssuerKey, LegacyIssuerCodec.Instance, () => { }, absentIsEmpty: true);

    public static ConfigMapDocumentStore<JobLedgerDocument> JobLedger(ConfigMapUpdater configMaps, JobsManagerOptions options, JobsManagerMetrics metrics) =>
        new(configMaps, options.StateConfigMapName, JobLedgerKey, JobLedgerCodec.Instance, metrics.LedgerConflict);
}
