namespace RequestsProxy.JobsManager.Api;

/// <summary>Every 4xx/5xx body: a stable lowercase code and a sentence for people.</summary>
internal sealed record ErrorResponse(string Error, string Message);
