namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Where jobs run (Kubernetes or local processes). The core above it is the same for both:
/// it mints, records and revokes; the runtime only delivers, launches, reports and deletes.
/// </summary>
internal interface IJobRuntime
{
    /// <summary>Runtime-specific checks of a request (an image for Kubernetes, a command locally); null when fine.</summary>
    string? Validate(JobSpec spec);

    /// <summary>Where a job of that name reads its token (for jobs restored from the ledger).</summary>
    string TokenFileOf(string name);

    /// <summary>Delivers the first token and launches the job. Throws <see cref="JobConflictException"/> when the name is taken.</summary>
    Task<LaunchedJob> LaunchAsync(JobSpec spec, JobCredential credential, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the job's token in place (the job reads it on each request). With <see cref="JobRef.Uid"/>, only
    /// to that very Job: another Job under the name is refused (an exception), never given the token.
    /// </summary>
    Task DeliverAsync(JobRef job, JobCredential credential, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the job and its token; a job that does not exist is not an error. With <see cref="JobRef.Uid"/>,
    /// only that very Job: another Job under the name is left alone (logged), as a job already gone.
    /// </summary>
    Task DeleteAsync(JobRef job, CancellationToken cancellationToken);

    /// <summary>
    /// Every job this runtime runs, with its state (and, on Kubernetes, its namespace and uid): candidates,
    /// matched to the jobs-manager's records by <see cref="RuntimeJob.Find"/>, never by name alone.
    /// </summary>
    Task<IReadOnlyList<RuntimeJob>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether a job recorded in namespace <paramref name="ns"/> is among those <see cref="GetStatesAsync"/>
    /// lists. A runtime without namespaces lists every job; on Kubernetes, a job of the release-namespace
    /// layout (before job namespaces) or of a namespace dropped from the configuration is not.
    /// </summary>
    bool IsInScope(string? ns) => true;

    /// <summary>
    /// The state of a job outside <see cref="IsInScope"/>, read in its own namespace (and from then on
    /// refreshed and deleted there): <see cref="JobState.Missing"/> when it is certainly gone,
    /// <see cref="JobState.Unreachable"/> when the jobs-manager may not look. Never throws for a refusal.
    /// </summary>
    /// <param name="job">Its name, namespace, and the uid of the Job it is (an adopted Job's, or the jobs-manager's own once recorded); without a uid, the jobs-manager's labels decide.</param>
    /// <returns>The Job as read (its uid, so an entry from before uids gets it), or state <see cref="JobState.Missing"/> / <see cref="JobState.Unreachable"/>.</returns>
    Task<RuntimeJob> GetOutOfScopeStateAsync(JobRef job, CancellationToken cancellationToken) => Task.FromResult(new RuntimeJob(job.Name, JobState.Missing, job.Namespace));
}
