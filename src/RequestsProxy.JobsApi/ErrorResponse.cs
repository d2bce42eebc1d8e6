namespace RequestsProxy.JobsApi;

/// <summary>Every 4xx/5xx body: a stable lowercase code and a sentence for people.</summary>
public sealed record ErrorResponse(string Error, string Message);
