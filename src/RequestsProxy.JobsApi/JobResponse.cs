namespace RequestsProxy.JobsApi;

/// <summary>
/// One job as the jobs-manager returns it (<c>GET /v1/jobs</c>, <c>POST /v1/jobs</c>); <see cref="State"/> is one of
/// <see cref="JobStates"/>; <see cref="Namespace"/> is the job namespace it runs in (null on the Local runtime).
/// <see cref="Adopted"/>: a Job another tool created, given a token because of its label (adopt mode).
/// <see cref="Problem"/>: set when the operator must act — why a labelled Job gets no token
/// (<see cref="JobStates.Refused"/>), or why a job is not refreshed (<see cref="JobStates.Unreachable"/>).
/// </summary>
public sealed record JobResponse(
    string Name,
    string State,
    string? Image,
    IReadOnlyList<string> Command,
    string Scope,
    DateTimeOffset CreatedAt,
    TokenResponse? Token,
    int TokensIssued,
    string? TokenFile,
    bool TokensRevoked,
    string? Namespace = null,
    bool Adopted = false,
    string? Problem = null);
