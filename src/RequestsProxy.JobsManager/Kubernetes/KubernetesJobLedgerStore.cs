using System.Text;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// The job ledger in the chart's state ConfigMap (key jobs.json), changed through
/// <see cref="ConfigMapUpdater"/> like the revocation list (resourceVersion + retry on 409). A
/// ledger that does not parse is never overwritten: that would forget tokens still to revoke.
/// </summary>
internal sealed class KubernetesJobLedgerStore(ConfigMapUpdater configMaps, JobsManagerOptions options, JobsManagerMetrics metrics) : IJobLedgerStore
{
    public const string Key = "jobs.json";

    private const string Description = "jobs-manager state";

    public string Location => $"configmap/{options.StateConfigMapName} in namespace {options.Namespace}";

    public async Task<JobLedgerSnapshot> ReadAsync(CancellationToken cancellationToken) =>
        Parse(await configMaps.ReadAsync(options.StateConfigMapName, Key, Description, cancellationToken).ConfigureAwait(false));

    public Task<JobLedgerSnapshot> UpdateAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken) =>
        configMaps.UpdateAsync(options.StateConfigMapName, Key, Description, content =>
        {
            var current = Parse(content);
            var next = change(current.Document);
            if (ReferenceEquals(next, current.Document) && content is not null)
            {
                return new ConfigMapEdit<JobLedgerSnapshot>(current, null);
            }

            var bytes = next.Serialize();
            return new ConfigMapEdit<JobLedgerSnapshot>(new JobLedgerSnapshot(next, bytes.LongLength), Encoding.UTF8.GetString(bytes));
        }, metrics.LedgerConflict, cancellationToken);

    private JobLedgerSnapshot Parse(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return new JobLedgerSnapshot(JobLedgerDocument.Empty, 0);
        }

        var bytes = Encoding.UTF8.GetBytes(content);
        if (!JobLedgerDocument.TryParse(bytes, out var document, out var error))
        {
            throw new InvalidDataException($"the jobs-manager state ConfigMap '{options.StateConfigMapName}' holds an invalid {Key}: {error}");
        }

        return new JobLedgerSnapshot(document, bytes.LongLength);
    }
}
