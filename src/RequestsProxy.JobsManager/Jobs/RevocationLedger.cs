using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.IO;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Appends and prunes revocation entries through the store, and watches the list's size: each
/// shard's ConfigMap holds at most 1 MiB, so the size is exported and a warning logged from 80 %
/// of the store's capacity on.
/// </summary>
internal sealed partial class RevocationLedger(IDocumentStore<RevocationList> store, JobsManagerOptions options, TimeProvider time, JobsManagerMetrics metrics, ILogger<RevocationLedger> logger)
{
    public string Location => store.Location;

    private volatile RevocationList? _latest;

    /// <summary>The list as last read or written (null before the first read): what key usage asks whether a token is revoked.</summary>
    public RevocationList? Latest => _latest;

    /// <summary>What the list may take in all: every shard full (one ConfigMap without shards, and locally).</summary>
    public long CapacityBytes { get; } = store is ShardedRevocationStore sharded ? sharded.CapacityBytes : DocumentLimits.ConfigMapBytes;

    /// <summary>Adds the entries (a jti already listed keeps one entry); returns the list as stored.</summary>
    public async Task<DocumentSnapshot<RevocationList>> AddAsync(IReadOnlyList<RevocationEntry> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return await ReadAsync(cancellationToken).ConfigureAwait(false);
        }

        DocumentSnapshot<RevocationList> snapshot;
        try
        {
            snapshot = await store.UpdateAsync(list => list.Add(entries), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.RevocationUpdated("error");
            Log.UpdateFailed(logger, store.Location, e);
            throw;
        }

        metrics.RevocationUpdated("ok");
        metrics.RevocationEntriesAdded(entries.Count);
        Observe(snapshot);
        return snapshot;
    }

    /// <summary>
    /// Drops entries whose exp + leeway has passed — the only reason an entry ever leaves (a
    /// stopped job's copied token must stay refused until it expires on its own).
    /// </summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var removed = 0;
        DocumentSnapshot<RevocationList> snapshot;
        try
        {
            snapshot = await store.UpdateAsync(list => list.Prune(now, options.Leeway, out removed), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.RevocationUpdated("error");
            Log.UpdateFailed(logger, store.Location, e);
            throw;
        }

        if (removed > 0)
        {
            metrics.RevocationUpdated("ok");
            metrics.RevocationEntriesPruned(removed);
            Log.Pruned(logger, removed, snapshot.Document.Count, store.Location);
        }

        Observe(snapshot);
        return removed;
    }

    public async Task<DocumentSnapshot<RevocationList>> ReadAsync(CancellationToken cancellationToken)
    {
        var snapshot = await store.ReadAsync(cancellationToken).ConfigureAwait(false);
        Observe(snapshot);
        return snapshot;
    }

    private void Observe(DocumentSnapshot<RevocationList> snapshot)
    {
        _latest = snapshot.Document;
        metrics.RevocationSize(snapshot.SizeBytes, snapshot.Document.Count, CapacityBytes);
        if (snapshot.SizeBytes >= (long)(CapacityBytes * DocumentLimits.WarningFraction))
        {
            Log.NearLimit(logger, snapshot.SizeBytes, CapacityBytes, snapshot.Document.Count, store.Location);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Warning,
            Message = "The revocation list is {SizeBytes} bytes of its {LimitBytes}-byte capacity ({Entries} entries) at {Location}; add shards, shorten the token lifetime or prune")]
        public static partial void NearLimit(ILogger logger, long sizeBytes, long limitBytes, int entries, string location);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Pruned {Removed} expired revocation entries; {Entries} remain at {Location}")]
        public static partial void Pruned(ILogger logger, int removed, int entries, string location);

        [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "Could not update the revocation list at {Location}")]
        public static partial void UpdateFailed(ILogger logger, string location, Exception exception);
    }
}
