namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// What a stop did. Stopping an unknown job succeeds with <see cref="Known"/> false (stop is idempotent).
/// <see cref="UnconfirmedReplicas"/>: legacy replicas that did not confirm the forget (each with why); the tokens are
/// revoked anyway, and those replicas refuse them once the legacy token list's end reaches them.
/// </summary>
internal sealed record StopOutcome(string Name, bool Known, int Revoked, IReadOnlyList<string>? UnconfirmedReplicas = null);
