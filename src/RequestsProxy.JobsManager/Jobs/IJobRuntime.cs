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
    /// <param name="adoptedUid">An adopted Job's uid (it carries none of the jobs-manager's labels); null for the jobs-manager's own.</param>
    Task<JobState> GetOutOfScopeStateAsync(string name, string ns, string? adoptedUid, CancellationToken cancellationToken) => Task.FromResult(JobState.Missing);
}
