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

    /// <summary>Replaces the job's token in place (the job reads it on each request).</summary>
    Task DeliverAsync(string name, JobCredential credential, CancellationToken cancellationToken);

    /// <summary>Deletes the job and its token; a job that does not exist is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);

    /// <summary>The state of every job this runtime runs, by name.</summary>
    Task<IReadOnlyDictionary<string, JobState>> GetStatesAsync(CancellationToken cancellationToken);
}
