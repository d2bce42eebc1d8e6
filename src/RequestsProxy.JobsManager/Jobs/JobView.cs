namespace RequestsProxy.JobsManager.Jobs;

/// <summary>An immutable picture of one job for the API (no secrets); <see cref="Problem"/>: what an operator must know (why no token, why not refreshed).</summary>
internal sealed record JobView(
    string Name,
    JobState State,
    string? Image,
    IReadOnlyList<string> Command,
    string Scope,
    DateTimeOffset CreatedAt,
    IssuedToken? Token,
    int TokensIssued,
    string? TokenFile,
    bool TokensRevoked = false,
    string? Namespace = null,
    bool Adopted = false,
    string? Problem = null);
