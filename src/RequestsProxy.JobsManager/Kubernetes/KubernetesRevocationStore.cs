using System.Text;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// The revocation list in the chart's ConfigMap (key revoked.json), changed through
/// <see cref="ConfigMapUpdater"/> (resourceVersion + retry on 409), so concurrent stops never lose
/// an entry. A list that does not parse is never overwritten.
/// </summary>
internal sealed class KubernetesRevocationStore(ConfigMapUpdater configMaps, JobsManagerOptions options, JobsManagerMetrics metrics) : IRevocationStore
{
    public const string Key = RevocationFile.FileName;

    private const string Description = "revocation";

    public string Location => $"configmap/{options.RevokedConfigMapName} in namespace {options.Namespace}";

    public async Task<RevocationSnapshot> ReadAsync(CancellationToken cancellationToken) =>
        Parse(await configMaps.ReadAsync(options.RevokedConfigMapName, Key, Description, cancellationToken).ConfigureAwait(false));

    public Task<RevocationSnapshot> UpdateAsync(Func<RevocationList, RevocationList> change, CancellationToken cancellationToken) =>
        configMaps.UpdateAsync(options.RevokedConfigMapName, Key, Description, content =>
        {
            var current = Parse(content);
            var next = change(current.List);
            if (ReferenceEquals(next, current.List) && content is not null)
            {
                return new ConfigMapEdit<RevocationSnapshot>(current, null);
            }

            var text = Encoding.UTF8.GetString(next.Serialize());
            return new ConfigMapEdit<RevocationSnapshot>(new RevocationSnapshot(next, Encoding.UTF8.GetByteCount(text)), text);
        }, metrics.RevocationConflict, cancellationToken);

    private RevocationSnapshot Parse(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return new RevocationSnapshot(RevocationList.Empty, 0);
        }

        var bytes = Encoding.UTF8.GetBytes(content);

        // Never overwrite a list we cannot read: that would silently un-revoke every entry in it.
        if (!RevocationList.TryParse(bytes, out var list, out var error))
        {
            throw new InvalidDataException($"the revocation ConfigMap '{options.RevokedConfigMapName}' holds an invalid {Key}: {error}");
        }

        return new RevocationSnapshot(list, bytes.LongLength);
    }
}
