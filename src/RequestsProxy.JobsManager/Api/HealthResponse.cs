namespace RequestsProxy.JobsManager.Api;

/// <summary>The body of <c>/healthz</c> and <c>/readyz</c>.</summary>
internal sealed record HealthResponse(string Status, IReadOnlyList<string> Problems);
