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
}
