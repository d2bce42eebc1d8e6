namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The body of the proxy's legacy <c>POST /admin/v1/tokens</c>.</summary>
internal sealed record LegacyRegistration(string Token, string Sub, string Scope);
