namespace RequestsProxy.JobsApi;

/// <summary>
/// The body of <c>DELETE /v1/jobs/{name}</c>: the same shape whether or not the job was known (idempotent).
/// <see cref="UnconfirmedReplicas"/> names the legacy proxy replicas that did not confirm the forget, each with why
/// (empty when all did; absent from an older jobs-manager): the job is stopped and its tokens revoked all the same —
/// those replicas refuse them once the legacy token list's end reaches them; a repeated DELETE asks them again.
/// </summary>
public sealed record StopJobResponse(string Name, bool Stopped, bool Known, int Revoked, IReadOnlyList<string>? UnconfirmedReplicas = null);
