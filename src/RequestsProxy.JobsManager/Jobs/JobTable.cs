using System.Collections.Concurrent;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The live jobs by name, and the one owner of their gates: a job changes only through the
/// <see cref="JobRecord.Lease"/> this table hands out, and leaves the table only through
/// <see cref="Remove"/>, under its lease. Also knows whether it has been rebuilt from the ledger
/// yet: until then an unknown name may be a job whose tokens the ledger lists.
/// </summary>
internal sealed class JobTable
{
    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private volatile string? _restoreProblem = "the job ledger has not been read yet";
    private volatile bool _restored;

    public int Count => _jobs.Count;

    public ICollection<JobRecord> Jobs => _jobs.Values;

    /// <summary>True once the table has been rebuilt from the ledger.</summary>
    public bool IsRestored => _restored;

    /// <summary>Why the table has not been rebuilt yet (null once it has).</summary>
    public string? RestoreProblem => _restoreProblem;

    public bool TryGet(string name, out JobRecord job) => _jobs.TryGetValue(name, out job!);

    /// <summary>
    /// Adds a new job with its gate already held, so no other path can touch it before its first
    /// token is recorded; null when the name is taken.
    /// </summary>
    public JobRecord.Lease? TryAdd(JobRecord job)
    {
        var lease = job.TryAcquire() ?? throw new InvalidOperationException($"a new job record for '{job.Name}' is already locked");
        if (_jobs.TryAdd(job.Name, lease.Job))
        {
            return lease;
        }

        lease.Dispose();
        return null;
    }

    /// <summary>Adds a job rebuilt from the ledger (no lease: nothing can have seen it yet); false when the name is listed.</summary>
    public bool TryRestore(JobRecord job) => _jobs.TryAdd(job.Name, job);

    public Task<JobRecord.Lease> LockAsync(JobRecord job, CancellationToken cancellationToken) => job.AcquireAsync(cancellationToken);

    /// <summary>The job's gate if it is free now; null when another path holds it.</summary>
    public JobRecord.Lease? TryLock(JobRecord job) => job.TryAcquire();

    /// <summary>Forgets the job (only this record: a newer job of the same name stays).</summary>
    public void Remove(JobRecord.Lease lease)
    {
        lease.MarkRemoved();
        _jobs.TryRemove(new KeyValuePair<string, JobRecord>(lease.Job.Name, lease.Job));
    }

    public void MarkRestored()
    {
        _restored = true;
        _restoreProblem = null;
    }

    public void RestoreFailed(string problem) => _restoreProblem = problem;
}
