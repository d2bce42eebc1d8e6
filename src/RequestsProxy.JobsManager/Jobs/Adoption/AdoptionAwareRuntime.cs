namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>
/// The runtime as the core sees it in adopt mode: calls for an adopted job (by name, as every
/// collaborator makes them) go to its Job's namespace through <see cref="IAdoptionDelivery"/>, and its
/// state comes from the watch's <see cref="AdoptionCache"/>; everything else goes to the jobs-manager's
/// own runtime. So refresh, stop and restore need no adopt-specific path and cannot forget one.
/// </summary>
internal sealed class AdoptionAwareRuntime(IJobRuntime inner, JobTable table, AdoptionCache cache, IAdoptionDelivery adoption, TimeProvider time) : IJobRuntime
{
    /// <summary>How long a restore waits for the first list of every watched namespace before it reports not-ready (and the next pass retries).</summary>
    private static readonly TimeSpan SyncWait = TimeSpan.FromSeconds(30);

    public string? Validate(JobSpec spec) => inner.Validate(spec);

    public string TokenFileOf(string name) => inner.TokenFileOf(name);

    public Task<LaunchedJob> LaunchAsync(JobSpec spec, JobCredential credential, CancellationToken cancellationToken) =>
        inner.LaunchAsync(spec, credential, cancellationToken);

    public Task DeliverAsync(string name, JobCredential credential, CancellationToken cancellationToken)
    {
        if (Adopted(name) is not { } job)
        {
            return inner.DeliverAsync(name, credential, cancellationToken);
        }

        // Never to a newer Job of the same name (its own adoption gives it its own token). A Job of a namespace
        // no longer watched (dropped from the job namespaces) is not in the cache: tried there as it is.
        return cache.Find(job) is { State: not JobState.Stopping } || !IsWatched(job)
            ? adoption.DeliverAsync(job, credential, first: false, cancellationToken)
            : throw new InvalidOperationException($"the adopted Job {job} is no longer there");
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (Adopted(name) is not { } job)
        {
            return inner.DeleteAsync(name, cancellationToken);
        }

        // A Job the watch saw go (or going) needs no delete: only DELETE /v1/jobs/{name} of a running one does.
        return cache.Find(job) is { State: not JobState.Stopping } || !IsWatched(job) ? adoption.DeleteAsync(job, cancellationToken) : Task.CompletedTask;
    }

    public bool IsInScope(string? ns) => inner.IsInScope(ns);

    public Task<JobState> GetOutOfScopeStateAsync(string name, string ns, string? adoptedUid, CancellationToken cancellationToken) =>
        inner.GetOutOfScopeStateAsync(name, ns, adoptedUid, cancellationToken);

    private bool IsWatched(AdoptedJob job) => cache.Namespaces.Contains(job.Namespace, StringComparer.Ordinal);

    public async Task<IReadOnlyDictionary<string, JobState>> GetStatesAsync(CancellationToken cancellationToken)
    {
        var states = await inner.GetStatesAsync(cancellationToken).ConfigureAwait(false);
        if (!cache.IsSynced && !await cache.WaitSyncedAsync(SyncWait, time, cancellationToken).ConfigureAwait(false))
        {
            // Unseen is not gone: until every namespace was listed, an adopted job must not be taken for deleted.
            throw new InvalidOperationException($"the watch of labelled Jobs has not listed namespace(s) {string.Join(", ", cache.Unlisted)} yet");
        }

        var merged = new Dictionary<string, JobState>(states, StringComparer.Ordinal);
        foreach (var observed in cache.Snapshot())
        {
            // The jobs-manager's own Job of that name wins (the adopter refuses the labelled one), and an
            // adopted job's state is its own Job's, not another incarnation's or namespace's.
            var name = observed.Job.Name;
            if (!states.ContainsKey(name) && (Adopted(name) is not { } known || known == observed.Job))
            {
                merged[name] = observed.State;
            }
        }

        return merged;
    }

    private AdoptedJob? Adopted(string name) => table.TryGet(name, out var job) ? job.Spec.Adopted : null;
}
