namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// One live job in the ledger: enough to list it, refresh it and revoke it after a restart. The
/// request's <c>env</c> is deliberately left out (it may carry a client's settings the jobs-manager
/// has no reason to keep); nothing after the launch needs it. <c>namespace</c> is the job namespace
/// (Kubernetes); an entry written before job namespaces existed has none: the jobs-manager's own.
/// <see cref="Adopted"/>: the Job's namespace and uid when it was adopted by label (absent for the jobs-manager's own jobs).
/// <see cref="Uid"/>: the uid of the Job the jobs-manager created (Kubernetes), so a Job of the same name with
/// another uid is never taken for it; absent in entries written before uids were recorded (filled in at the first
/// match by name) and for adopted jobs (their uid is in <see cref="Adopted"/>).
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
    Adoption.AdoptedJob? Adopted = null,
    string? Uid = null);
