namespace RequestsProxy.JobsManager.Api;

/// <summary>Facts about a job's current token; the token itself is never returned.</summary>
internal sealed record TokenResponse(string Jti, string? Kid, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt);
