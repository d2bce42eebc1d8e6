namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>
/// A labelled Job as the watch last saw it: which one, and its state (Stopping once it has a
/// deletionTimestamp). <see cref="Problems"/>: what its manifest breaks of the validator's rules
/// (<c>JobTemplateValidator.ValidateAdopted</c>); a Job with any gets no token.
/// </summary>
internal sealed record ObservedJob(AdoptedJob Job, JobState State, IReadOnlyList<string>? Problems = null)
{
    public bool IsValid => Problems is not { Count: > 0 };
}
