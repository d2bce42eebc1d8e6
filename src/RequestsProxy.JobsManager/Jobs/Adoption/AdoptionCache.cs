namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>
/// What the watch of labelled Jobs last saw, per watched namespace: the adopter's view of the
/// cluster between events, and the runtime's answer for adopted jobs' states (no extra list per
/// pass). Not synced until every namespace has been listed once: until then an adopted job missing
/// here may simply not have been seen yet, and nothing may be revoked for it.
/// </summary>
internal sealed class AdoptionCache(IReadOnlyList<string> namespaces)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Namespace, string Name), ObservedJob> _jobs = [];
    private readonly HashSet<string> _listed = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The namespaces whose labelled Jobs are adopted.</summary>
    public IReadOnlyList<string> Namespaces { get; } = namespaces;

    public bool IsSynced => _synced.Task.IsCompleted;

    /// <summary>Namespaces not listed yet (for the not-ready message).</summary>
    public IReadOnlyList<string> Unlisted
    {
        get
        {
            lock (_lock)
            {
                return [.. Namespaces.Where(n => !_listed.Contains(n))];
            }
        }
    }

    /// <summary>Waits until every namespace has been listed once, at most <paramref name="limit"/>; true when synced.</summary>
    public async Task<bool> WaitSyncedAsync(TimeSpan limit, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await _synced.Task.WaitAsync(limit, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>A fresh list of one namespace (at start, or after the watch's resourceVersion expired); returns the Jobs that vanished.</summary>
    public IReadOnlyList<ObservedJob> Replace(string @namespace, IEnumerable<ObservedJob> listed)
    {
        List<ObservedJob> vanished;
        lock (_lock)
        {
            var fresh = listed.ToDictionary(j => j.Job.Name, StringComparer.Ordinal);
            vanished = [.. _jobs.Where(e => e.Key.Namespace == @namespace && (!fresh.TryGetValue(e.Key.Name, out var now) || now.Job.Uid != e.Value.Job.Uid)).Select(e => e.Value)];
            foreach (var gone in vanished)
            {
                _jobs.Remove((@namespace, gone.Job.Name));
            }

            foreach (var job in fresh.Values)
            {
                _jobs[(@namespace, job.Job.Name)] = job;
            }

            _listed.Add(@namespace);
            if (Namespaces.All(_listed.Contains))
            {
                _synced.TrySetResult();
            }
        }

        return vanished;
    }

    public void Upsert(ObservedJob job)
    {
        lock (_lock)
        {
            _jobs[(job.Job.Namespace, job.Job.Name)] = job;
        }
    }

    /// <summary>Forgets that incarnation of the Job (a newer one of the same name stays).</summary>
    public void Remove(AdoptedJob job)
    {
        lock (_lock)
        {
            if (_jobs.TryGetValue((job.Namespace, job.Name), out var seen) && seen.Job.Uid == job.Uid)
            {
                _jobs.Remove((job.Namespace, job.Name));
            }
        }
    }

    public ObservedJob? Find(string @namespace, string name)
    {
        lock (_lock)
        {
            return _jobs.GetValueOrDefault((@namespace, name));
        }
    }

    /// <summary>The very Job (same uid) if it is still there.</summary>
    public ObservedJob? Find(AdoptedJob job) => Find(job.Namespace, job.Name) is { } seen && seen.Job.Uid == job.Uid ? seen : null;

    public IReadOnlyList<ObservedJob> Snapshot()
    {
        lock (_lock)
        {
            return [.. _jobs.Values];
        }
    }
}
