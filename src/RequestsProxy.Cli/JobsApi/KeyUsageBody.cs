namespace RequestsProxy.Cli.JobsApi;

/// <summary>The body of <c>GET /v1/keys/usage</c>.</summary>
internal sealed record KeyUsageBody(string? ActiveKid, IReadOnlyList<KidUsageBody> Keys);
