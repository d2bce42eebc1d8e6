namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// What the jobs-manager remembers of a token it handed out — never the token itself.
/// <see cref="Kid"/> and <see cref="ExpiresAt"/> are null for legacy opaque tokens.
/// </summary>
internal sealed record IssuedToken(string Jti, string? Kid, DateTimeOffset IssuedAt, DateTimeOffset? ExpiresAt)
{
    public bool IsUnexpired(DateTimeOffset now, TimeSpan leeway) => ExpiresAt is not { } exp || now < exp + leeway;
}
