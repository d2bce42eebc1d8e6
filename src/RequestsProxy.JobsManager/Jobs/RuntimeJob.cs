namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// One job as the runtime lists it: its state, and where the runtime has them its namespace and uid (a
/// Kubernetes Job). Listed by labels, so a listed Job is only a candidate: <see cref="Find"/> decides which,
/// if any, is a given job.
/// </summary>
internal sealed record RuntimeJob(string Name, JobState State, string? Namespace = null, string? Uid = null)
{
    /// <summary>
    /// The listed job that is <paramref name="job"/>: the one with its uid; for a job whose uid is not known yet
    /// (a ledger entry from before uids were recorded, the Local runtime), the one of its name (in its namespace
    /// when both are known). <paramref name="stranger"/>: a Job of its name that is not it (another uid), or null.
    /// </summary>
    public static RuntimeJob? Find(IEnumerable<RuntimeJob> listed, JobRef job, out RuntimeJob? stranger)
    {
        stranger = null;
        RuntimeJob? found = null;
        foreach (var candidate in listed)
        {
            if (candidate.Name != job.Name)
            {
                continue;
            }

            var same = job.Uid is { } uid
                ? candidate.Uid == uid
                : job.Namespace is null || candidate.Namespace is null || candidate.Namespace == job.Namespace;
            if (same)
            {
                found ??= candidate;
            }
            else if (job.Uid is not null)
            {
                stranger ??= candidate;
            }
        }

        if (found is not null)
        {
            stranger = null;
        }

        return found;
    }
}
