using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// Read → modify → replace of one key of one ConfigMap, for every document the jobs-manager
/// stores there. The replace carries the resourceVersion it read: a concurrent writer makes the
/// API answer 409, and the change is applied again to the newer content under
/// <see cref="OptimisticRetry"/> — so concurrent writers never lose each other's changes. Only get
/// and update are used (ConfigMapProvisioner creates the ConfigMaps at start-up; the chart grants these verbs by name).
/// </summary>
internal sealed partial class ConfigMapUpdater(IKubernetes client, JobsManagerOptions options, TimeProvider time, ILogger<ConfigMapUpdater> logger)
{
    private readonly OptimisticRetry _retry = new(options.RevocationUpdateAttempts, time);

    public string Namespace => options.Namespace!;

    /// <summary>The key's content; null when the ConfigMap has no such key. A missing ConfigMap is an error naming it.</summary>
    public async Task<string?> ReadAsync(string name, string key, string description, CancellationToken cancellationToken)
    {
        var configMap = await ReadConfigMapAsync(name, description, cancellationToken).ConfigureAwait(false);
        return Content(configMap, key);
    }

    /// <summary>
    /// Calls <paramref name="edit"/> with the key's current content (null when absent) and the bytes the
    /// ConfigMap's other keys hold (the API server limits all of them together), and writes what it
    /// returns; on 409 reads again and calls it again, up to the configured attempts.
    /// <paramref name="edit"/> may throw to refuse content it cannot read (nothing is written).
    /// </summary>
    public Task<T> UpdateAsync<T>(string name, string key, string description, Func<string?, long, ConfigMapEdit<T>> edit, Action onConflict, CancellationToken cancellationToken) =>
        _retry.RunAsync(async (_, ct) =>
            {
                var configMap = await ReadConfigMapAsync(name, description, ct).ConfigureAwait(false);
                var (result, content) = edit(Content(configMap, key), OtherKeysBytes(configMap, key));
                if (content is null)
                {
                    return result;
                }

                configMap.Data ??= new Dictionary<string, string>(StringComparer.Ordinal);
                configMap.Data[key] = content;

                // The resourceVersion read above travels in the body: the API refuses a stale one with 409.
                await client.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, name, Namespace, cancellationToken: ct).ConfigureAwait(false);
                return result;
            },
            e => e is HttpOperationException { Response.StatusCode: HttpStatusCode.Conflict },
            (attempt, delay) =>
            {
                onConflict();
                Log.Conflict(logger, name, attempt, delay.TotalMilliseconds);
            },
            cancellationToken);

    /// <summary>What the API server counts of every other key (values; binary ones decoded), against its 1 MiB.</summary>
    private static long OtherKeysBytes(V1ConfigMap configMap, string key) =>
        (configMap.Data?.Where(d => !string.Equals(d.Key, key, StringComparison.Ordinal)).Sum(d => (long)System.Text.Encoding.UTF8.GetByteCount(d.Value ?? "")) ?? 0)
        + (configMap.BinaryData?.Sum(d => (long)(d.Value?.Length ?? 0)) ?? 0);

    private static string? Content(V1ConfigMap configMap, string key) =>
        configMap.Data is { } data && data.TryGetValue(key, out var content) ? content : null;

    private async Task<V1ConfigMap> ReadConfigMapAsync(string name, string description, CancellationToken cancellationToken)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedConfigMapAsync(name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new InvalidOperationException($"the {description} ConfigMap '{name}' does not exist in namespace '{Namespace}' (the jobs-manager creates it at start-up; deleted since? restart the jobs-manager to recreate it empty, or restore it from a backup)", e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 510, Level = LogLevel.Debug, Message = "ConfigMap {ConfigMap} changed under us (409, attempt {Attempt}); re-reading after {DelayMs} ms")]
        public static partial void Conflict(ILogger logger, string configMap, int attempt, double delayMs);
    }
}
