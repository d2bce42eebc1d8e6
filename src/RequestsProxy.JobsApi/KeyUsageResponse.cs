namespace RequestsProxy.JobsApi;

/// <summary>
/// The body of <c>GET /v1/keys/usage</c>. <see cref="TokenTtlSeconds"/> and <see cref="LeewaySeconds"/> are the
/// jobs-manager's own settings, so <c>rpctl keys retire</c> judges a demoted key by the lifetime really in force
/// (null from a jobs-manager that predates them).
/// </summary>
public sealed record KeyUsageResponse(string? ActiveKid, IReadOnlyList<KidUsageResponse> Keys, long? TokenTtlSeconds = null, long? LeewaySeconds = null);
