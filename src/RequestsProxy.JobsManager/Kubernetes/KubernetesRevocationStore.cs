using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// The revocation list in the chart's ConfigMap (key revoked.json). Each change reads the
/// ConfigMap, applies the change to what it holds, and replaces it with the resourceVersion it
/// read: a concurrent writer makes the API answer 409, and the change is applied again to the
/// newer content after a jittered, bounded backoff — so concurrent stops never lose an entry.
/// Only get and update on that one ConfigMap are used (the chart creates it).
/// </summary>
internal sealed partial class KubernetesRevocationStore(IKubernetes client, JobsManagerOptions options, TimeProvider time, JobsManagerMetrics metrics, ILogger<KubernetesRevocationStore> logger) : IRevocationStore
{
    public const string Key = RevocationFile.FileName;

    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    public string Location => $"configmap/{options.RevokedConfigMapName} in namespace {options.Namespace}";

    public async Task<RevocationSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        var (_, list, size) = await ReadCoreAsync(cancellationToken).ConfigureAwait(false);
        return new RevocationSnapshot(list, size);
    }

    public async Task<RevocationSnapshot> UpdateAsync(Func<RevocationList, RevocationList> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (configMap, current, size) = await ReadCoreAsync(cancellationToken).ConfigureAwait(false);
            var next = change(current);
            if (ReferenceEquals(next, current) && configMap.Data?.ContainsKey(Key) == true)
            {
                return new RevocationSnapshot(current, size);
            }

            var content = Encoding.UTF8.GetString(next.Serialize());
            configMap.Data ??= new Dictionary<string, string>(StringComparer.Ordinal);
            configMap.Data[Key] = content;
            try
            {
                // The resourceVersion read above travels in the body: the API refuses a stale one with 409.
                await client.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, options.RevokedConfigMapName, options.Namespace!, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new RevocationSnapshot(next, Encoding.UTF8.GetByteCount(content));
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < options.RevocationUpdateAttempts)
            {
                metrics.RevocationConflict();
                var delay = Backoff(attempt);
                Log.Conflict(logger, options.RevokedConfigMapName, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Full jitter over an exponential ceiling: concurrent writers spread out instead of colliding again.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 10)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    private async Task<(V1ConfigMap ConfigMap, RevocationList List, long Size)> ReadCoreAsync(CancellationToken cancellationToken)
    {
        V1ConfigMap configMap;
        try
        {
            configMap = await client.CoreV1.ReadNamespacedConfigMapAsync(options.RevokedConfigMapName, options.Namespace!, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new InvalidOperationException($"the revocation ConfigMap '{options.RevokedConfigMapName}' does not exist in namespace '{options.Namespace}' (the chart creates it)", e);
        }

        if (configMap.Data is null || !configMap.Data.TryGetValue(Key, out var content) || string.IsNullOrWhiteSpace(content))
        {
            return (configMap, RevocationList.Empty, 0);
        }

        var bytes = Encoding.UTF8.GetBytes(content);

        // Never overwrite a list we cannot read: that would silently un-revoke every entry in it.
        if (!RevocationList.TryParse(bytes, out var list, out var error))
        {
            throw new InvalidDataException($"the revocation ConfigMap '{options.RevokedConfigMapName}' holds an invalid {Key}: {error}");
        }

        return (configMap, list, bytes.LongLength);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 510, Level = LogLevel.Debug, Message = "ConfigMap {ConfigMap} changed under us (409, attempt {Attempt}); re-reading after {DelayMs} ms")]
        public static partial void Conflict(ILogger logger, string configMap, int attempt, double delayMs);
    }
}
