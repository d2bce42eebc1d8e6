using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The list as stored, and its serialized size (what counts against the 1 MiB ConfigMap limit).</summary>
internal sealed record RevocationSnapshot(RevocationList List, long SizeBytes);
