namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The ledger as stored, and its serialized size (what counts against the 1 MiB ConfigMap limit).</summary>
internal sealed record JobLedgerSnapshot(JobLedgerDocument Document, long SizeBytes);
