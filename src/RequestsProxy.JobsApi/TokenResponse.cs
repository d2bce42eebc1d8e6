namespace RequestsProxy.JobsApi;

/// <summary>Facts about a job's current token; the token itself is never returned.</summary>
public sealed record TokenResponse(string Jti, string? Kid, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt);
