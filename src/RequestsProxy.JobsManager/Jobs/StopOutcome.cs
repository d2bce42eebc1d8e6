namespace RequestsProxy.JobsManager.Jobs;

/// <summary>What a stop did. Stopping an unknown job succeeds with <see cref="Known"/> false (stop is idempotent).</summary>
internal sealed record StopOutcome(string Name, bool Known, int Revoked);
