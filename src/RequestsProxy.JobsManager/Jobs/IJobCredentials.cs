namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// How jobs get credentials and lose them: signed JWTs revoked through the revocation list
/// (stateless mode), or opaque tokens listed for the proxies and registered with them (legacy
/// mode); <see cref="JobCredentials"/> serves both kinds in either mode (DESIGN §12).
/// </summary>
internal interface IJobCredentials
{
    /// <summary>True when credentials expire and must be re-minted (JWTs); false for legacy tokens.</summary>
    bool Expires { get; }

    /// <summary>The kid new credentials are signed with (null in legacy mode or before a ring loads).</summary>
    string? ActiveKid { get; }

    /// <summary>True when credentials can be issued (a key ring is loaded).</summary>
    bool IsReady { get; }

    /// <summary>A stop of a job it does not know still asks the proxies to forget the subject's legacy tokens.</summary>
    bool ForgetsBySubject => !Expires;

    /// <summary>A live job holding a legacy opaque token gets a signed one instead (reason <c>cutover</c>).</summary>
    bool ConvertsLegacyTokens => false;

    Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken);

    /// <summary>A credential for a job that holds <paramref name="current"/> (null: a new job), of the kind it should keep.</summary>
    Task<JobCredential> IssueAsync(string subject, string scope, IssuedToken? current, CancellationToken cancellationToken) =>
        IssueAsync(subject, scope, cancellationToken);

    /// <summary>A job now holds <paramref name="delivered"/> instead of <paramref name="previous"/> (its token Secret or file was written).</summary>
    Task DeliveredAsync(string subject, IssuedToken? previous, IssuedToken delivered, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Makes the given credentials of a job unusable; returns how many entries were added.</summary>
    Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the legacy list entries no live job holds any more (<paramref name="holdsLegacyToken"/>
    /// says which subjects still do) and drops ended ones; returns how many entries changed.
    /// </summary>
    Task<int> ConvergeAsync(Func<string, bool> holdsLegacyToken, CancellationToken cancellationToken) => Task.FromResult(0);
}
