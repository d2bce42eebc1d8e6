namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// How jobs get credentials and lose them: signed JWTs revoked through the revocation list
/// (stateless mode), or opaque tokens registered with the proxy (legacy mode).
/// </summary>
internal interface IJobCredentials
{
    /// <summary>True when credentials expire and must be re-minted (JWTs); false for legacy tokens.</summary>
    bool Expires { get; }

    /// <summary>The kid new credentials are signed with (null in legacy mode or before a ring loads).</summary>
    string? ActiveKid { get; }

    /// <summary>True when credentials can be issued (a key ring is loaded).</summary>
    bool IsReady { get; }

    Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken);

    /// <summary>Makes the given credentials of a job unusable; returns how many entries were added.</summary>
    Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken);
}
