namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// What a client asked to run: validated, immutable. <see cref="Template"/> is set when the request
/// carried a Kubernetes Job or pod template; <see cref="Image"/>, <see cref="Command"/>,
/// <see cref="Args"/> and <see cref="Env"/> then describe its first container (what the API lists,
/// the ledger keeps, and the local runtime runs). <see cref="Namespace"/> is the job namespace it
/// runs in (Kubernetes; null locally).
/// <see cref="Adopted"/> is set for a Job another tool created and the jobs-manager only gives a token to (adopt mode).
/// </summary>
internal sealed record JobSpec(
    string Name,
    string? Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Args,
    string Scope,
    IReadOnlyDictionary<string, string> Env,
    JobTemplate? Template = null,
    string? Namespace = null,
    Adoption.AdoptedJob? Adopted = null);
