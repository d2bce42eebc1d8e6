using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A ledger that cannot be read until the test allows it (an API server that is down at start-up).</summary>
internal sealed class FailingReadLedgerStore : IDocumentStore<JobLedgerDocument>
{
    private readonly InMemoryJobLedgerStore _inner = new();

    public bool FailReads { get; set; } = true;

    public string Location => "memory";

    public Task<DocumentSnapshot<JobLedgerDocument>> ReadAsync(CancellationToken cancellationToken) =>
        FailReads ? throw new IOException("ledger unavailable (test)") : _inner.ReadAsync(cancellationToken);

    public Task<DocumentSnapshot<JobLedgerDocument>> UpdateAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken) =>
        _inner.UpdateAsync(change, cancellationToken);
}
