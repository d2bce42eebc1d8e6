namespace RequestsProxy.JobsManager.Jobs;

/// <summary>What the runtime reports right after a launch.</summary>
internal sealed record LaunchedJob(JobState State, string TokenFile);
