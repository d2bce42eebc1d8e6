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

    public Task DeliverAsync(JobRef job, JobCredential credential, CancellationToken cancellationToken)
    {
        if (Adopted(job) is not { } adopted)
        {
            return inner.DeliverAsync(job, credential, cancellationToken);
        }

        // Never to a newer Job of the same name (its own adoption gives it its own token). A Job of a namespace
        // no longer watched (dropped from the job namespaces) is not in the cache: tried there as it is.
        return cache.Find(adopted) is { State: not JobState.Stopping } || !IsWatched(adopted)
            ? adoption.DeliverAsync(adopted, credential, first: false, cancellationToken)
            : throw new InvalidOperationException($"the adopted Job {adopted} is no longer there");
    }

    public Task DeleteAsync(JobRef job, CancellationToken cancellationToken)
    {
        if (Adopted(job) is not { } adopted)
        {
            return inner.DeleteAsync(job, cancellationToken);
        }

        // A Job the watch saw go (or going) needs no delete: only DELETE /v1/jobs/{name} of a running one does.
        return cache.Find(adopted) is { State: not JobState.Stopping } || !IsWatched(adopted) ? adoption.DeleteAsync(adopted, cancellationToken) : Task.CompletedTask;
    }

    public bool IsInScope(string? ns) => inner.IsInScope(ns);

    public Task<RuntimeJob> GetOutOfScopeStateAsync(JobRef job, CancellationToken cancellationToken) => inner.GetOutOfScopeStateAsync(job, cancellationToken);

    private bool IsWatched(AdoptedJob job) => cache.Namespaces.Contains(job.Namespace, StringComparer.Ordinal);

    /// <summary>
    /// The jobs-manager's own labelled Jobs and the watch's adopted ones, each with its uid: a record takes the state
    /// of the very Job it is (<see cref="RuntimeJob.Find"/>), so neither a Job with our labels under an adopted job's
    /// name nor a labelled one under ours can lend it its state.
    /// </summary>
    public async Task<IReadOnlyList<RuntimeJob>> ListAsync(CancellationToken cancellationToken)
    {
        var listed = await inner.ListAsync(cancellationToken).ConfigureAwait(false);
        if (!cache.IsSynced && !await cache.WaitSyncedAsync(SyncWait, time, cancellationToken).ConfigureAwait(false))
        {
            // Unseen is not gone: until every namespace was listed, an adopted job must not be taken for deleted.
            throw new InvalidOperationException($"the watch of labelled Jobs has not listed namespace(s) {string.Join(", ", cache.Unlisted)} yet");
        }

        return [.. listed, .. cache.Snapshot().Select(o => new RuntimeJob(o.Job.Name, o.State, o.Job.Namespace, o.Job.Uid))];
    }

    /// <summary>The adopted Job this call is about: the table's record of that name, when it is an adopted one.</summary>
    private AdoptedJob? Adopted(JobRef job) => table.TryGet(job.Name, out var record) ? record.Spec.Adopted : null;
}
