namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// One live job in the ledger: enough to list it, refresh it and revoke it after a restart. The
/// request's <c>env</c> is deliberately left out (it may carry a client's settings the jobs-manager
/// has no reason to keep); nothing after the launch needs it. <c>namespace</c> is the job namespace
/// (Kubernetes); an entry written before job namespaces existed has none: the jobs-manager's own.
/// <see cref="Adopted"/>: the Job's namespace and uid when it was adopted by label (absent for the jobs-manager's own jobs).
/// </summary>
internal sealed record JobLedgerEntry(
    string Name,
    DateTimeOffset CreatedAt,
    string? Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Args,
    string Scope,
    int TokensIssued,
    string? CurrentJti,
    bool TokensRevoked,
    IReadOnlyList<JobLedgerToken> Tokens,
    string? Namespace = null,
    Adoption.AdoptedJob? Adopted = null);
