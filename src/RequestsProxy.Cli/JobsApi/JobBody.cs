namespace RequestsProxy.Cli.JobsApi;

/// <summary>One job as the jobs-manager returns it (<c>GET /v1/jobs</c>, <c>POST /v1/jobs</c>).</summary>
internal sealed record JobBody(
    string Name,
    string State,
    string? Image,
    IReadOnlyList<string>? Command,
    string? Scope,
    DateTimeOffset CreatedAt,
    TokenBody? Token,
    int TokensIssued,
    string? TokenFile);
