using Microsoft.Extensions.Logging;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Both kinds of credential in either mode, so flipping <c>REQUESTS_PROXY_STATELESS</c> strands no
/// job (DESIGN §12, docs/operations.md). New jobs get the mode's kind. Stateless: a job still
/// holding a legacy token is converted to a JWT, and the legacy entry ends a grace after the JWT
/// was delivered. Legacy: a job holding a JWT keeps getting JWTs (legacy proxies verify them). A
/// stop revokes each kind its own way: JWT jtis into the revocation list, legacy tokens out of the
/// legacy list and out of every legacy proxy's memory.
/// </summary>
internal sealed partial class JobCredentials(StatelessJobCredentials signed, LegacyJobCredentials legacy, JobsManagerOptions options, ILogger<JobCredentials> logger)
    : IJobCredentials
{
    /// <summary>JWTs are refreshed in both modes (a legacy jobs-manager keeps a stateless-born job's JWT fresh).</summary>
    public bool Expires => true;

    public string? ActiveKid => signed.ActiveKid;

    /// <summary>New jobs can get the mode's kind of token (a key ring; or, legacy, the admin token).</summary>
    public bool IsReady => options.Stateless ? signed.IsReady : legacy.IsReady;

    public bool ForgetsBySubject => true;

    public bool ConvertsLegacyTokens => options.Stateless;

    public Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken) =>
        IssueAsync(subject, scope, null, cancellationToken);

    public async Task<JobCredential> IssueAsync(string subject, string scope, IssuedToken? current, CancellationToken cancellationToken)
    {
        if (options.Stateless || current is { Kid: not null })
        {
            return await signed.IssueAsync(subject, scope, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await legacy.IssueAsync(subject, scope, cancellationToken).ConfigureAwait(false);
        }
        catch (StatelessReplicaException e) when (signed.IsReady)
        {
            // Mid-roll (a flip back, or a legacy jobs-manager beside new stateless pods): a JWT is accepted by
            // every replica of either kind at once, and the job keeps it (JWTs are refreshed in both modes).
            Log.SignedInstead(logger, subject, e.Replica);
            return await signed.IssueAsync(subject, scope, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DeliveredAsync(string subject, IssuedToken? previous, IssuedToken delivered, CancellationToken cancellationToken)
    {
        if (previous is not { Kid: null } || delivered.Kid is null)
        {
            return;
        }

        try
        {
            await legacy.EndAsync(subject, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The job already holds its JWT; the maintenance pass ends the entry on its next run.
            Log.EndDeferred(logger, subject, e);
        }
    }

    public async Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken)
    {
        // Legacy first: its list removal is the one that can fail loudly before anything else changed. Once its end is
        // written, an unconfirmed forget does not stop the jtis' revocation: it is reported after it.
        int revoked;
        ForgetUnconfirmedException? unconfirmed = null;
        try
        {
            revoked = await legacy.RevokeAsync(subject, tokens, replicasMustAnswer: !options.Stateless, cancellationToken).ConfigureAwait(false);
        }
        catch (ForgetUnconfirmedException e)
        {
            unconfirmed = e;
            revoked = e.Revoked;
        }

        var jwts = tokens.Where(t => t.Kid is not null).ToList();
        if (jwts.Count > 0)
        {
            revoked += await signed.RevokeAsync(subject, jwts, cancellationToken).ConfigureAwait(false);
        }

        return unconfirmed is null ? revoked : throw unconfirmed.WithRevoked(subject, revoked);
    }

    public Task<int> ConvergeAsync(Func<string, bool> holdsLegacyToken, CancellationToken cancellationToken) =>
        legacy.ConvergeAsync(holdsLegacyToken, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(EventId = 610, Level = LogLevel.Warning, Message = "Job {Job} holds its signed token, but its legacy entry could not be ended yet; the next maintenance pass does it")]
        public static partial void EndDeferred(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 611, Level = LogLevel.Information, Message = "Job {Job} gets a signed token instead of a legacy one: the proxy replica {Replica} runs stateless (a roll is in progress)")]
        public static partial void SignedInstead(ILogger logger, string job, Uri replica);
    }
}
