namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// A legacy revocation whose list end is written — the tokens are revoked: every replica refuses them once the list's
/// change reaches it — but some legacy replicas did not confirm the forget that makes them refuse at once (refused,
/// unreachable, slow). Not a failure of the revocation: the caller goes on as revoked and names the replicas
/// (finding B2 of 2026-12-02: treated as "nothing revoked", it left a running job with a dead token).
/// </summary>
internal sealed class ForgetUnconfirmedException(string subject, int revoked, IReadOnlyList<string> replicas)
    : Exception($"the legacy tokens of '{subject}' are ended in the list, but {replicas.Count} legacy proxy replica(s) did not confirm the forget: {string.Join("; ", replicas)}")
{
    /// <summary>How many entries the revocation ended (or added, with the job's signed tokens).</summary>
    public int Revoked { get; } = revoked;

    /// <summary>Each replica that did not confirm, with why.</summary>
    public IReadOnlyList<string> Replicas { get; } = replicas;

    /// <summary>The same, with the count of the revocation it was part of.</summary>
    public ForgetUnconfirmedException WithRevoked(string subject, int total) => new(subject, total, Replicas);
}
