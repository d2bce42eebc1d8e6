using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The job ledger as a stored document (<c>jobs.json</c>).</summary>
internal sealed class JobLedgerCodec : IDocumentCodec<JobLedgerDocument>
{
    public static readonly JobLedgerCodec Instance = new();

    public string Description => "job ledger";

    public JobLedgerDocument Empty => JobLedgerDocument.Empty;

    public bool TryParse(ReadOnlySpan<byte> content, out JobLedgerDocument document, out string error) => JobLedgerDocument.TryParse(content, out document, out error);

    public byte[] Serialize(JobLedgerDocument document) => document.Serialize();
}
