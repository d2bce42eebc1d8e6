namespace RequestsProxy.JobsApi;

/// <summary>The body of <c>POST /v1/jobs</c>.</summary>
public sealed record StartJobRequest(
    string? Name,
    string? Image,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string>? Args,
    string? Scope,
    IReadOnlyDictionary<string, string>? Env);
