namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Where the ledger of live jobs lives (a ConfigMap, or a local jobs.json). Like
/// <see cref="IRevocationStore"/>, every change is a read → modify → write applied to the latest
/// stored content (again on a concurrent write), so no writer's entry is lost.
/// </summary>
internal interface IJobLedgerStore
{
    /// <summary>Where the ledger lives, for logs and docs.</summary>
    string Location { get; }

    Task<JobLedgerSnapshot> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="change"/> to the current ledger (again, on a concurrent write) and stores the result.</summary>
    Task<JobLedgerSnapshot> UpdateAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken);
}
