using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>Where the Kubernetes runtime keeps its documents: the chart's ConfigMaps (DESIGN §5).</summary>
internal static class KubernetesStores
{
    /// <summary>The job ledger's key in the state ConfigMap.</summary>
    public const string JobLedgerKey = "jobs.json";

    /// <summary>The revocation list's key in the revocation ConfigMap (the file name the proxy reads).</summary>
    public const string RevocationKey = RevocationFile.FileName;

    public static ConfigMapDocumentStore<RevocationList> Revocation(ConfigMapUpdater configMaps, JobsManagerOptions options, JobsManagerMetrics metrics) =>
        new(configMaps, options.RevokedConfigMapName, RevocationKey, RevocationListCodec.Instance, metrics.RevocationConflict);

    public static ConfigMapDocumentStore<JobLedgerDocument> JobLedger(ConfigMapUpdater configMaps, JobsManagerOptions options, JobsManagerMetrics metrics) =>
        new(configMaps, options.StateConfigMapName, JobLedgerKey, JobLedgerCodec.Instance, metrics.LedgerConflict);
}
