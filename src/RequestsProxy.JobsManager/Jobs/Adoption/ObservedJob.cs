namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>A labelled Job as the watch last saw it: which one, and its state (Stopping once it has a deletionTimestamp).</summary>
internal sealed record ObservedJob(AdoptedJob Job, JobState State);
