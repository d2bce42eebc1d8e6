using System.Text;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// A document in one key of a chart-created ConfigMap, changed through <see cref="ConfigMapUpdater"/>
/// (resourceVersion + retry on 409), so concurrent writers never lose a change. Content that does
/// not parse is never overwritten.
/// </summary>
/// <param name="absentIsEmpty">
/// A missing key is the codec's empty document (a key added to an existing ConfigMap later, the
/// legacy list's issuing marker); otherwise a missing or blank key is damage and nothing is written.
/// </param>
internal sealed class ConfigMapDocumentStore<T>(ConfigMapUpdater configMaps, string configMapName, string key, IDocumentCodec<T> codec, Action onConflict, bool absentIsEmpty = false)
    : IDocumentStore<T> where T : class
{
    public string ConfigMapName => configMapName;

    public string Location => $"configmap/{configMapName} in namespace {configMaps.Namespace}";

    public async Task<DocumentSnapshot<T>> ReadAsync(CancellationToken cancellationToken) =>
        Parse(await configMaps.ReadAsync(configMapName, key, codec.Description, cancellationToken).ConfigureAwait(false));

    public Task<DocumentSnapshot<T>> UpdateAsync(Func<T, T> change, CancellationToken cancellationToken) =>
        configMaps.UpdateAsync(configMapName, key, codec.Description, (content, otherKeysBytes) =>
        {
            var current = Parse(content);
            var next = change(current.Document);
            if (ReferenceEquals(next, current.Document) && content is not null)
            {
                return new ConfigMapEdit<DocumentSnapshot<T>>(current, null);
            }

            var bytes = codec.Serialize(next);
            if (bytes.LongLength + otherKeysBytes > DocumentLimits.ConfigMapBytes)
            {
                // The API server would answer 422; say what is too big and by how much instead.
                throw new DocumentTooLargeException(codec.Description, bytes.LongLength, DocumentLimits.ConfigMapBytes - otherKeysBytes,
                    otherKeysBytes == 0 ? $"ConfigMap '{configMapName}'" : $"ConfigMap '{configMapName}' (its other keys hold {otherKeysBytes} bytes)");
            }

            return new ConfigMapEdit<DocumentSnapshot<T>>(new DocumentSnapshot<T>(next, bytes.LongLength), Encoding.UTF8.GetString(bytes));
        }, onConflict, cancellationToken);

    private DocumentSnapshot<T> Parse(string? content)
    {
        if (content is null && absentIsEmpty)
        {
            return new DocumentSnapshot<T>(codec.Empty, 0);
        }

        if (string.IsNullOrWhiteSpace(content))
        {
            // The ConfigMap exists (a missing one is a 404 before this): every writer, the chart's and ours, puts content in it,
            // so a blank or absent key is damage (an operator's `kubectl create configmap` with no data after a deletion). Read
            // as empty, the next write would make the loss permanent: every proxy dropping the revocations it kept.
            throw new InvalidDataException($"the ConfigMap '{configMapName}' exists but its key '{key}' is {(content is null ? "absent" : "blank")}: " +
                $"an empty {codec.Description} is written as {Encoding.UTF8.GetString(codec.Serialize(codec.Empty))}, never as nothing. Restore it from a backup; nothing was written");
        }

        var bytes = Encoding.UTF8.GetBytes(content);
        if (!codec.TryParse(bytes, out var document, out var error))
        {
            throw new InvalidDataException($"the ConfigMap '{configMapName}' holds an invalid {key} ({codec.Description}): {error}");
        }

        return new DocumentSnapshot<T>(document, bytes.LongLength);
    }
}
