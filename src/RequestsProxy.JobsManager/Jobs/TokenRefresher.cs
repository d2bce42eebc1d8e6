using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The refresh policy — a new token when less than half the lifetime is left, or when the active
/// kid changed — applied to every refreshable job, each under its lease through <see cref="TokenDelivery"/>.
/// A failed refresh leaves the job its previous token; the next check retries.
/// </summary>
internal sealed partial class TokenRefresher(
    JobTable table, IJobRuntime runtime, IJobCredentials credentials, TokenDelivery delivery, TimeProvider time, JobsManagerMetrics metrics, ILogger logger)
{
    private const int RefreshParallelism = 8;

    /// <summary>Re-issues the token of every live job that needs it; returns how many were re-issued.</summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken)
    {
        if (!credentials.Expires || !credentials.IsReady)
        {
            return 0;
        }

        var refreshed = 0;
        await Parallel.ForEachAsync(table.Jobs, new ParallelOptions { MaxDegreeOfParallelism = RefreshParallelism, CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                if (Reason(job) is null)
                {
                    return;
                }

                using var lease = await table.LockAsync(job, ct).ConfigureAwait(false);
                if (Reason(job) is { } reason && await RefreshOneAsync(lease, reason, ct).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref refreshed);
                }
            }).ConfigureAwait(false);
        return refreshed;
    }

    /// <summary>Why the job needs a new token now ("refresh", "rotation", "cutover"), or null.</summary>
    public string? Reason(JobRecord job)
    {
        if (!job.IsRefreshable)
        {
            return null;
        }

        if (!job.DeliveryUnconfirmed && job.Current is { Kid: null, ExpiresAt: null })
        {
            // A legacy opaque token: a stateless jobs-manager replaces it with a JWT (DESIGN §12); a legacy one keeps it.
            return credentials.ConvertsLegacyTokens ? "cutover" : null;
        }

        if (job.DeliveryUnconfirmed || job.Current is not { ExpiresAt: { } expiresAt } current)
        {
            return "refresh";
        }

        if (credentials.ActiveKid is { } active && current.Kid != active)
        {
            return "rotation";
        }

        var lifetime = expiresAt - current.IssuedAt;
        return expiresAt - time.GetUtcNow() < lifetime / 2 ? "refresh" : null;
    }

    private async Task<bool> RefreshOneAsync(JobRecord.Lease lease, string reason, CancellationToken cancellationToken)
    {
        var name = lease.Job.Name;
        var result = await delivery.IssueAndDeliverAsync(lease, reason, async (credential, ct) =>
        {
            await runtime.DeliverAsync(lease.Job.Ref, credential, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        switch (result.Stage)
        {
            case TokenDeliveryStage.Issue:
                Log.IssueFailed(logger, name, result.Error!);
                return false;

            case TokenDeliveryStage.Delivery when result.Error is OperationCanceledException:
                throw result.Error;

            case TokenDeliveryStage.Ledger or TokenDeliveryStage.Delivery:
                // The job still holds its previous token; the next check tries again.
                metrics.DeliveryFailed();
                Log.DeliveryFailed(logger, name, result.Credential!.Facts.Jti, result.Error!);
                return false;
        }

        var facts = result.Credential!.Facts;
        Log.Refreshed(logger, name, facts.Jti, facts.Kid, facts.ExpiresAt, reason);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Re-issued the token of job {Job}: {Jti} (kid {Kid}, expires {ExpiresAt}, reason {Reason})")]
        public static partial void Refreshed(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt, string reason);

        [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "Could not issue a token for job {Job}")]
        public static partial void IssueFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 113, Level = LogLevel.Warning, Message = "Could not deliver token {Jti} to job {Job}; it keeps its previous token and the next check retries")]
        public static partial void DeliveryFailed(ILogger logger, string job, string jti, Exception exception);
    }
}
