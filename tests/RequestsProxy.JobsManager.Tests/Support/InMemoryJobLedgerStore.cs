using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A job ledger in memory, for the core's tests.</summary>
internal sealed class InMemoryJobLedgerStore() : InMemoryDocumentStore<JobLedgerDocument>(JobLedgerCodec.Instance);
