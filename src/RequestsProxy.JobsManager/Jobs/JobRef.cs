namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Which job a runtime call is about: its name (the token's <c>sub</c>) and, on Kubernetes, its namespace and
/// the uid of the very Job the jobs-manager created or adopted. A Job of that name with another uid is not
/// this job (deleted and created again by someone able to create Jobs with the jobs-manager's labels): nothing
/// is delivered to it, and it is never deleted on this job's behalf. <see cref="Uid"/> is null for a ledger entry
/// written before uids were recorded (until its first match by name fills it in), for a stop of a name the
/// jobs-manager does not know, and on the Local runtime (a pid and its start time identify a child there).
/// </summary>
internal sealed record JobRef(string Name, string? Namespace = null, string? Uid = null);
