namespace RequestsProxy.JobsManager.Api;

/// <summary>The body of <c>GET /v1/keys/usage</c>.</summary>
internal sealed record KeyUsageResponse(string? ActiveKid, IReadOnlyList<KidUsageResponse> Keys);
