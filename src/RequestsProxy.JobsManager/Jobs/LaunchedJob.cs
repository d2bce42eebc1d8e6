namespace RequestsProxy.JobsManager.Jobs;

/// <summary>What the runtime reports right after a launch; <paramref name="Uid"/>: the created Job's (Kubernetes), recorded in the ledger.</summary>
internal sealed record LaunchedJob(JobState State, string TokenFile, string? Uid = null);
