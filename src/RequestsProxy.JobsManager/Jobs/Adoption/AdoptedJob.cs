namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>
/// A Job the jobs-manager did not create but gives a token to, because it carries the label
/// <see cref="AdoptionNames.Label"/>: where it is and which incarnation (the uid — a Job deleted
/// and created again under the same name is another job, with other tokens).
/// </summary>
internal sealed record AdoptedJob(string Namespace, string Name, string Uid)
{
    public override string ToString() => $"{Namespace}/{Name} (uid {Uid})";
}
