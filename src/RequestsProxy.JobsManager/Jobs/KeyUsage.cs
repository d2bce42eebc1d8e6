namespace RequestsProxy.JobsManager.Jobs;

/// <summary>Live tokens per kid: what a safe key retirement needs to know.</summary>
internal sealed record KeyUsage(string? ActiveKid, IReadOnlyList<KidUsage> Keys);
