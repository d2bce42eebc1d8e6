using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A job ledger in memory, for the core's tests; it survives a "restart" when the test hands it to the next manager.</summary>
internal sealed class InMemoryJobLedgerStore : IJobLedgerStore
{
    private readonly Lock _lock = new();

    public JobLedgerDocument Document { get; private set; } = JobLedgerDocument.Empty;

    public bool Fail { get; set; }

    public int Writes { get; private set; }

    public string Location => "memory";

    public Task<JobLedgerSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new JobLedgerSnapshot(Document, Document.Serialize().LongLength));
        }
    }

    public Task<JobLedgerSnapshot> UpdateAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken)
    {
        if (Fail)
        {
            throw new IOException("ledger unavailable (test)");
        }

        lock (_lock)
        {
            var next = change(Document);
            if (!ReferenceEquals(next, Document))
            {
                Document = next;
                Writes++;
            }

            return Task.FromResult(new JobLedgerSnapshot(Document, Document.Serialize().LongLength));
        }
    }
}
