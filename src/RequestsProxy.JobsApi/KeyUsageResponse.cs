namespace RequestsProxy.JobsApi;

/// <summary>The body of <c>GET /v1/keys/usage</c>.</summary>
public sealed record KeyUsageResponse(string? ActiveKid, IReadOnlyList<KidUsageResponse> Keys);
