using System.Collections.Concurrent;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// The old design's state: opaque tokens registered in this process's memory, gone on restart
/// (the mounted legacy token list is what survives one). Tokens are kept only as their
/// <see cref="LegacyTokenDigest"/>, so a heap dump does not hand them out.
/// </summary>
/// <remarks>
/// A forgotten token leaves a tombstone: the mounted list may still hold its entry until the
/// jobs-manager's removal reaches this pod (the kubelet's sync, about a minute), and a stop must
/// bite at once here, as it always did. A tombstone goes once the list in force no longer holds
/// the digest and <see cref="TombstoneLifetime"/> has passed (the removal may land after a late add).
/// A registered token whose list entry ends (<see cref="LegacyTokenEntry.Until"/>: the job now holds
/// a signed token) ends here at the same time and stays ended after the jobs-manager drops the entry,
/// so this pod never accepts it longer than a restarted pod would.
/// Once the list in force has held a registered token's digest, the list decides for it: a token
/// whose entry is gone (removed by a stop whose forget never reached this pod, or dropped after its
/// end) is refused here too. The registry only bridges the time until the list reaches this pod.
/// Tombstones live in memory only, so a restarted pod would accept a stopped job's token from a copy of
/// the list the kubelet has not updated yet: until the jobs-manager's first sync, which also names every
/// entry it ended recently (<see cref="ForgetEnded"/>), or <see cref="ProxySettings.LegacySyncWait"/>,
/// this pod answers legacy tokens 503 <c>not_ready</c> (<see cref="AwaitingSync"/>; finding B7 of 2026-12-02).
/// </remarks>
internal sealed class LegacyTokenRegistry(TimeProvider time, TokenSources sources, ProxySettings settings)
{
    public static readonly TimeSpan TombstoneLifetime = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<string, CallerIdentity> _byDigest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _untilByDigest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _digestsBySubject = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tombstones = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _listed = new(StringComparer.Ordinal);
    private readonly Lock _writeLock = new();
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();
    private volatile bool _synced;
    private volatile bool _waitOver;

    public int Count => _byDigest.Count;

    public int TombstoneCount => _tombstones.Count;

    /// <summary>A legacy jobs-manager has pushed every registration it still holds to this process.</summary>
    public bool Synced => _synced;

    public void MarkSynced() => _synced = true;

    /// <summary>
    /// Not synced yet and started less than <see cref="ProxySettings.LegacySyncWait"/> ago: this replica may lack
    /// registrations made before the jobs-manager could see it, and the forgets of stops made before it started
    /// (its list copy may predate their ends). Legacy tokens are answered 503 meanwhile, and <c>/readyz</c> is 503.
    /// </summary>
    public bool AwaitingSync
    {
        get
        {
            if (_synced || _waitOver)
            {
                return false;
            }

            if (settings.LegacySyncWait <= TimeSpan.Zero || time.GetUtcNow() - _startedAt >= settings.LegacySyncWait)
            {
                _waitOver = true;
                return false;
            }

            return true;
        }
    }

    /// <summary>Why this replica must not take traffic yet (null: it may): see <see cref="AwaitingSync"/>.</summary>
    public string? SyncProblem => AwaitingSync
        ? $"legacy registrations not synced by the jobs-manager yet (legacy tokens are answered 503 until then; ready anyway {settings.LegacySyncWait.TotalSeconds:0} s after start)"
        : null;

    /// <summary>Registers a token; false when exactly this registration was already in force (the jobs-manager's sync repeats it).</summary>
    public bool Register(string token, string subject, string scope) => RegisterDigest(LegacyTokenDigest.Compute(token), subject, scope);

    /// <summary>Registers a token by its digest (all this replica ever keeps; the jobs-manager sends nothing else).</summary>
    public bool RegisterDigest(string digest, string subject, string scope)
    {
        var caller = new CallerIdentity(subject, null, scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        lock (_writeLock)
        {
            if (_byDigest.TryGetValue(digest, out var same) && same.Subject == subject && same.Scopes.SequenceEqual(caller.Scopes))
            {
                return false;
            }

            if (_byDigest.TryGetValue(digest, out var previous) && _digestsBySubject.TryGetValue(previous.Subject, out var old))
            {
                old.Remove(digest);
            }

            _byDigest[digest] = caller;
            _untilByDigest.TryRemove(digest, out _);
            _tombstones.TryRemove(digest, out _);

            // Read under the lock: a list swapped in after this line is seen by ApplyEnds, which takes it too.
            if (sources.LegacyTokens.Current.Contains(digest))
            {
                _listed[digest] = 0;
            }
            else
            {
                _listed.TryRemove(digest, out _);
            }
            if (!_digestsBySubject.TryGetValue(subject, out var digests))
            {
                _digestsBySubject[subject] = digests = new HashSet<string>(StringComparer.Ordinal);
            }

            digests.Add(digest);
            return true;
        }
    }

    /// <summary>
    /// Forgets every token of a job, and refuses from now on the digests of <paramref name="listed"/>
    /// (the job's entries in the mounted list, which may linger). Returns how many were registered here.
    /// </summary>
    public int Forget(string subject, IEnumerable<string> listed)
    {
        var now = time.GetUtcNow();
        lock (_writeLock)
        {
            foreach (var digest in listed)
            {
                _tombstones[digest] = now;
            }

            if (!_digestsBySubject.Remove(subject, out var digests))
            {
                return 0;
            }

            foreach (var digest in digests)
            {
                _byDigest.TryRemove(digest, out _);
                _untilByDigest.TryRemove(digest, out _);
                _listed.TryRemove(digest, out _);
                _tombstones[digest] = now;
            }

            return digests.Count;
        }
    }

    /// <summary>
    /// Forgets one token by its digest (a registration the jobs-manager gave up on: it never reached a
    /// job) and refuses the digest from now on. True when it was registered here.
    /// </summary>
    public bool ForgetDigest(string digest)
    {
        lock (_writeLock)
        {
            _tombstones[digest] = time.GetUtcNow();
            _untilByDigest.TryRemove(digest, out _);
            _listed.TryRemove(digest, out _);
            if (!_byDigest.TryRemove(digest, out var caller))
            {
                return false;
            }

            if (_digestsBySubject.TryGetValue(caller.Subject, out var digests) && digests.Remove(digest) && digests.Count == 0)
            {
                _digestsBySubject.Remove(caller.Subject);
            }

            return true;
        }
    }

    /// <summary>
    /// The jobs-manager's sync names the tokens it ended (stopped) within its grace: each is refused here from now on,
    /// whatever this pod's copy of the list says (a restarted pod's copy may predate the end). Returns how many were new here.
    /// </summary>
    public int ForgetEnded(IReadOnlyList<string> digests)
    {
        var added = 0;
        lock (_writeLock)
        {
            var now = time.GetUtcNow();
            foreach (var digest in digests)
            {
                if (_tombstones.TryGetValue(digest, out _))
                {
                    // Already refused here; refreshed so it outlives the entry it shadows.
                    _tombstones[digest] = now;
                    continue;
                }

                added++;
                _tombstones[digest] = now;
                _untilByDigest.TryRemove(digest, out _);
                _listed.TryRemove(digest, out _);
                if (_byDigest.TryRemove(digest, out var caller)
                    && _digestsBySubject.TryGetValue(caller.Subject, out var subjectDigests) && subjectDigests.Remove(digest) && subjectDigests.Count == 0)
                {
                    _digestsBySubject.Remove(caller.Subject);
                }
            }
        }

        return added;
    }

    /// <summary>
    /// The caller of a registered token that the list in force does not hold (the caller asks only
    /// then): null once it has ended at <paramref name="nowSeconds"/> (Unix seconds), and null when a
    /// list in force held it before — its entry was removed or dropped since, so it is refused.
    /// </summary>
    public CallerIdentity? Find(ReadOnlySpan<char> digest, long nowSeconds)
    {
        if (!_byDigest.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(digest, out var caller)
            || (!_listed.IsEmpty && _listed.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(digest)))
        {
            return null;
        }

        return !_untilByDigest.IsEmpty && _untilByDigest.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(digest, out var until) && nowSeconds >= until
            ? null
            : caller;
    }

    /// <summary>Takes the ends of the list in force over for the tokens registered here (called when it changes).</summary>
    public void ApplyEnds(LegacyTokenList list)
    {
        if (_byDigest.IsEmpty)
        {
            return;
        }

        lock (_writeLock)
        {
            foreach (var entry in list.Entries)
            {
                if (!_byDigest.ContainsKey(entry.Digest))
                {
                    continue;
                }

                _listed[entry.Digest] = 0;
                if (entry.Until is { } until)
                {
                    _untilByDigest.AddOrUpdate(entry.Digest, until, (_, current) => Math.Min(current, until));
                }
            }
        }
    }

    /// <summary>The token was forgotten here: its entry in the mounted list no longer counts.</summary>
    public bool IsForgotten(ReadOnlySpan<char> digest) =>
        !_tombstones.IsEmpty && _tombstones.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(digest);

    /// <summary>Drops the tombstones the list in force no longer needs (called when it changes).</summary>
    public void PruneTombstones(LegacyTokenList list)
    {
        var cutoff = time.GetUtcNow() - TombstoneLifetime;
        foreach (var (digest, forgottenAt) in _tombstones)
        {
            if (forgottenAt <= cutoff && !list.Contains(digest))
            {
                _tombstones.TryRemove(digest, out _);
            }
        }
    }
}
