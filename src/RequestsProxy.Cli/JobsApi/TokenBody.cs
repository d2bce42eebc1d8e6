namespace RequestsProxy.Cli.JobsApi;

/// <summary>Facts about a job's current token (the token itself is never returned).</summary>
internal sealed record TokenBody(string Jti, string? Kid, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt);
