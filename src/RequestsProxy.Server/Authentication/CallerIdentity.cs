namespace RequestsProxy.Server.Authentication;

/// <summary>Who is calling, as established by a verified token (or a legacy registration).</summary>
internal sealed class CallerIdentity(string subject, string? jti, IReadOnlyList<string> scopes)
{
    public string Subject { get; } = subject;

    /// <summary>The token id; null for legacy opaque tokens, which have none.</summary>
    public string? Jti { get; } = jti;

    public IReadOnlyList<string> Scopes { get; } = scopes;

    public bool HasScope(string scope)
    {
        for (var i = 0; i < Scopes.Count; i++)
        {
            if (string.Equals(Scopes[i], scope, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
