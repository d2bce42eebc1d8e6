namespace RequestsProxy.Cli.JobsApi;

/// <summary>The body sent to <c>POST /v1/jobs</c>; null members are left out so the jobs-manager's defaults apply.</summary>
internal sealed record StartJobBody(
    string Name,
    string? Image,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string>? Args,
    string? Scope,
    IReadOnlyDictionary<string, string>? Env);
