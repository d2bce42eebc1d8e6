namespace RequestsProxy.JobsManager.Jobs;

/// <summary>A job's lifecycle as the runtime reports it.</summary>
internal enum JobState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Stopping,

    /// <summary>The runtime no longer knows the job (deleted behind our back).</summary>
    Missing,

    /// <summary>
    /// Recorded in a namespace that is not a job namespace (an upgrade from the release-namespace
    /// layout, a namespace dropped from the configuration) where the jobs-manager may not read Jobs:
    /// its state is unknown, its tokens are kept (not refreshed) until a DELETE or their expiry.
    /// </summary>
    Unreachable,

    /// <summary>Adopt mode: a labelled Job that gets no token (its pod spec breaks a rule, or its name is taken); listed, never in the job table.</summary>
    Refused,
}
