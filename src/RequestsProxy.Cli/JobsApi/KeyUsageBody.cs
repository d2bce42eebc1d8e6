namespace RequestsProxy.Cli.JobsApi;

/// <summary>The body of <c>GET /v1/keys/usage</c>; the lifetime and leeway are null from a jobs-manager that predates them.</summary>
internal sealed record KeyUsageBody(string? ActiveKid, IReadOnlyList<KidUsageBody> Keys, long? TokenTtlSeconds = null, long? LeewaySeconds = null);
