namespace RequestsProxy.Cli.JobsApi;

/// <summary>Every 4xx/5xx body of the jobs-manager: a stable code and a sentence for people.</summary>
internal sealed record ErrorBody(string? Error, string? Message);
