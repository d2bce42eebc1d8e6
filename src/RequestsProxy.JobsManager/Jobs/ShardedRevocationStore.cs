using RequestsProxy.Tokens.IO;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The revocation list spread over several documents (shards: one ConfigMap each, all mounted in
/// the proxy's folder), so it outgrows one ConfigMap's 1 MiB. The list is the union of the shards.
/// A change runs against each shard in turn, each as its own optimistic update: an entry already
/// in a shard stays there (updated or pruned in place, never listed twice); a new entry goes to its home shard (a
/// stable hash of its jti) and, when that shard has no room, to the next one with room. A change
/// that finds no room anywhere fails naming the capacity (what was placed stays revoked; a
/// retried stop adds the rest). One shard is exactly the single-document layout of old.
/// </summary>
internal sealed class ShardedRevocationStore : IDocumentStore<RevocationList>
{
    private readonly IReadOnlyList<IDocumentStore<RevocationList>> _shards;

    /// <param name="shardCapacityBytes">The most bytes one shard's serialized list may take.</param>
    public ShardedRevocationStore(IReadOnlyList<IDocumentStore<RevocationList>> shards, long shardCapacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfZero(shards.Count);
        _shards = shards;
        ShardCapacityBytes = shardCapacityBytes;
    }

    public int ShardCount => _shards.Count;

    public long ShardCapacityBytes { get; }

    /// <summary>What the whole list may take: every shard full.</summary>
    public long CapacityBytes => ShardCapacityBytes * _shards.Count;

    public string Location => _shards.Count == 1 ? _shards[0].Location : $"{_shards.Count} shards from {_shards[0].Location} to {_shards[^1].Location}";

    /// <summary>The shard a new entry is placed in when it has room: the same in every process and release.</summary>
    public static int HomeShard(string jti, int shardCount) =>
        shardCount == 1 ? 0 : (int)(Fnv1a(jti) % (uint)shardCount);

    // FNV-1a over the UTF-16 code units: tiny, stable across processes (string.GetHashCode is not).
    private static uint Fnv1a(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    public async Task<DocumentSnapshot<RevocationList>> ReadAsync(CancellationToken cancellationToken)
    {
        var parts = await Task.WhenAll(_shards.Select(s => s.ReadAsync(cancellationToken))).ConfigureAwait(false);
        return Union(parts);
    }

    public async Task<DocumentSnapshot<RevocationList>> UpdateAsync(Func<RevocationList, RevocationList> change, CancellationToken cancellationToken)
    {
        var parts = new DocumentSnapshot<RevocationList>[_shards.Count];
        IReadOnlyList<RevocationEntry> carried = [];

        // Where each listed jti lives, so a jti listed anywhere is changed there and never listed twice (entries never move).
        var located = new Dictionary<string, int>(StringComparer.Ordinal);
        if (_shards.Count > 1)
        {
            var current = await Task.WhenAll(_shards.Select(shard => shard.ReadAsync(cancellationToken))).ConfigureAwait(false);
            for (var s = 0; s < current.Length; s++)
            {
                foreach (var entry in current[s].Document.Entries)
                {
                    located.TryAdd(entry.Jti, s);
                }
            }
        }

        // First pass: every shard sees the change; a second pass offers what did not fit to the shards before its home.
        for (var pass = 0; pass < 2; pass++)
        {
            for (var s = 0; s < _shards.Count; s++)
            {
                if (pass == 1 && carried.Count == 0)
                {
                    break;
                }

                var shard = s;
                var incoming = carried;
                List<RevocationEntry> left = [];
                parts[s] = await _shards[s].UpdateAsync(current =>
                {
                    // Runs again on a conflict: start from nothing left over each time.
                    left = [];
                    return Place(current, pass == 0 ? change : null, shard, located, incoming, left);
                }, cancellationToken).ConfigureAwait(false);
                carried = left;
            }
        }

        if (carried.Count > 0)
        {
            throw new InvalidOperationException(
                $"the revocation list is full: {carried.Count} new entries fit in none of its {_shards.Count} shards of {ShardCapacityBytes} bytes " +
                $"({CapacityBytes} bytes in all) at {Location}; add shards (chart value requestsProxy.revoked.shards) or shorten the token lifetime");
        }

        return Union(parts);
    }

    /// <summary>Shard <paramref name="shard"/>'s next list: its own entries as changed, plus the new entries it takes while it has room.</summary>
    private RevocationList Place(RevocationList current, Func<RevocationList, RevocationList>? change, int shard,
        Dictionary<string, int> located, IReadOnlyList<RevocationEntry> incoming, List<RevocationEntry> left)
    {
        var changed = change is null ? current : change(current);
        var entries = new List<RevocationEntry>(changed.Entries.Count + incoming.Count);
        var fresh = new List<RevocationEntry>();
        foreach (var entry in changed.Entries)
        {
            if (current.Contains(entry.Jti))
            {
                entries.Add(entry);
            }
            else if ((located.TryGetValue(entry.Jti, out var at) ? at : HomeShard(entry.Jti, _shards.Count)) == shard)
            {
                fresh.Add(entry);
            }
        }

        fresh.AddRange(incoming.Where(e => !current.Contains(e.Jti)));
        if (fresh.Count > 0)
        {
            var size = (long)new RevocationList(entries).Serialize().Length;
            foreach (var entry in fresh)
            {
                var length = RevocationList.SerializedLength(entry);
                if (size + length <= ShardCapacityBytes)
                {
                    entries.Add(entry);
                    size += length;
                }
                else
                {
                    left.Add(entry);
                }
            }
        }

        return entries.Count == current.Entries.Count && entries.SequenceEqual(current.Entries) ? current : new RevocationList(entries);
    }

    private static DocumentSnapshot<RevocationList> Union(IReadOnlyList<DocumentSnapshot<RevocationList>> parts) =>
        parts.Count == 1 ? parts[0] : new(new RevocationList([.. parts.SelectMany(p => p.Document.Entries)]), parts.Sum(p => p.SizeBytes));
}
