using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Takes tokens away, always in the order lease → revoke → runtime delete → forget: a stop (revoke
/// every unexpired token the job ever held, then delete), the revocation of finished jobs' tokens,
/// the clean-up of a launch that failed, and the forgetting of jobs the runtime lost.
/// </summary>
internal sealed partial class JobStopper(
    JobTable table, IJobRuntime runtime, IJobCredentials credentials, JobLedger jobLedger, JobsManagerOptions options, TimeProvider time,
    JobsManagerMetrics metrics, JobAudit audit, ILogger logger)
{
    /// <summary>
    /// Revokes every unexpired token the job ever held, then deletes it. Idempotent: an unknown job
    /// is still deleted from the runtime and reported as not known.
    /// </summary>
    public async Task<JobResult<StopOutcome>> StopAsync(string name, CancellationToken cancellationToken)
    {
        if (!table.IsRestored)
        {
            // Before the ledger is read, an unknown job may be one whose tokens it lists: refuse, don't skip the revocation.
            return JobResult<StopOutcome>.Fail(JobError.NotReady, $"the jobs-manager has not read its job ledger yet ({table.RestoreProblem})");
        }

        if (!table.TryGet(name, out var job))
        {
            IReadOnlyList<string>? unconfirmed = null;
            try
            {
                if (credentials.ForgetsBySubject)
                {
                    // Legacy tokens: unlisted and forgotten by the proxies by subject, known to us or not (a repeated stop asks again).
                    try
                    {
                        await credentials.RevokeAsync(name, [], cancellationToken).ConfigureAwait(false);
                    }
                    catch (ForgetUnconfirmedException e)
                    {
                        unconfirmed = e.Replicas;
                    }
                }

                // Not ours: no uid to hold it to; an admin asked to delete whatever Job has that name.
                await runtime.DeleteAsync(new JobRef(name), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.StopFailed(logger, name, e);
                return JobResult<StopOutcome>.Fail(JobError.Backend, $"could not stop '{name}': {e.Message}");
            }

            audit.StoppedUnknown(name);

            return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: false, Revoked: 0, unconfirmed));
        }

        return await StopKnownAsync(job, gone: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Revoke, then delete, then forget. <paramref name="gone"/>: the runtime had already lost the job (found at start-up).</summary>
    public async Task<JobResult<StopOutcome>> StopKnownAsync(JobRecord job, bool gone, CancellationToken cancellationToken)
    {
        var name = job.Name;
        using var lease = await table.LockAsync(job, cancellationToken).ConfigureAwait(false);
        if (job.Removed)
        {
            return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: true, Revoked: 0));
        }

        lease.BeginStop();
        var revoked = 0;
        IReadOnlyList<string>? unconfirmed = null;
        if (!job.TokensRevoked)
        {
            try
            {
                (revoked, unconfirmed) = await RevokeAsync(lease, gone ? "gone" : "stop", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Nothing was revoked (the legacy list's end or the revocation list could not be written: a legacy
                // replica's unconfirmed forget is no failure here), so the job keeps running with its token as before.
                lease.CancelStop();
                Log.StopFailed(logger, name, e);
                return JobResult<StopOutcome>.Fail(JobError.Backend, $"could not revoke the tokens of '{name}': {e.Message}");
            }
        }

        try
        {
            await runtime.DeleteAsync(job.Ref, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Revoked but still there: stays Stopping (no refresh); a repeated DELETE finishes the job.
            Log.StopFailed(logger, name, e);
            await jobLedger.SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
            return JobResult<StopOutcome>.Fail(JobError.Backend, $"revoked the tokens of '{name}' but could not delete it: {e.Message}");
        }

        table.Remove(lease);
        await jobLedger.ForgetQuietlyAsync(name, cancellationToken).ConfigureAwait(false);
        if (gone)
        {
            Log.ForgotGone(logger, name, revoked);
        }
        else
        {
            metrics.JobStopped();
            Log.Stopped(logger, name, revoked);
        }

        return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: true, revoked, unconfirmed));
    }

    /// <summary>
    /// Revokes the unexpired tokens of every finished (succeeded or failed) job: a job that no longer
    /// runs has no use for them, and a copy must not outlive it. The job stays listed until a DELETE,
    /// which then only deletes. Returns how many jobs it revoked.
    /// </summary>
    public async Task<int> RevokeFinishedAsync(CancellationToken cancellationToken)
    {
        var revokedJobs = 0;
        foreach (var job in table.Jobs)
        {
            if (!job.IsFinishedWithLiveTokens)
            {
                continue;
            }

            using var lease = await table.LockAsync(job, cancellationToken).ConfigureAwait(false);
            if (!job.IsFinishedWithLiveTokens)
            {
                continue;
            }

            int revoked;
            try
            {
                (revoked, _) = await RevokeAsync(lease, "finished", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.FinishedRevokeFailed(logger, job.Name, e);
                continue;
            }

            await jobLedger.SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
            metrics.JobFinished();
            revokedJobs++;
            Log.FinishedRevoked(logger, job.Name, job.State == JobState.Succeeded ? "succeeded" : "failed", revoked);
        }

        return revokedJobs;
    }

    /// <summary>
    /// Revokes every unexpired token of a job that keeps running and stays listed (an adopted Job whose
    /// manifest no longer passes the rules): no delete, no refresh from here on. True when its tokens are revoked.
    /// </summary>
    /// <param name="reason">The audit trail's word for why (refused).</param>
    public async Task<bool> RevokeOnlyAsync(JobRecord job, string reason, CancellationToken cancellationToken)
    {
        using var lease = await table.LockAsync(job, cancellationToken).ConfigureAwait(false);
        if (job.Removed || job.TokensRevoked)
        {
            return true;
        }

        try
        {
            await RevokeAsync(lease, reason, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.StopFailed(logger, job.Name, e);
            return false;
        }

        await jobLedger.SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Forgets the jobs it can neither read nor act on (outside the job namespaces, <see cref="JobState.Unreachable"/>)
    /// once every token they held is past exp + leeway: from then on a revocation of them no longer matters (the
    /// proxy refuses them as expired, and the revocation list prunes their entries at that same moment) and nothing
    /// can be refreshed there, so such an entry would otherwise stay in the ledger for good. Revoked or not, the
    /// rule is the same; a legacy token never expires, so a job holding one stays until a DELETE. Returns how many.
    /// </summary>
    public async Task<int> ForgetSpentUnreachableAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var dropped = 0;
        foreach (var job in table.Jobs)
        {
            if (!IsSpentUnreachable(job, now))
            {
                continue;
            }

            using var lease = await table.LockAsync(job, cancellationToken).ConfigureAwait(false);
            if (!IsSpentUnreachable(job, now))
            {
                continue;
            }

            var expiredAt = job.History.Select(t => t.ExpiresAt).Max();
            table.Remove(lease);
            await jobLedger.ForgetQuietlyAsync(job.Name, cancellationToken).ConfigureAwait(false);
            metrics.LedgerEntryDropped();
            dropped++;
            Log.ForgotSpentUnreachable(logger, job.Name, job.Spec.Namespace ?? "", job.TokensRevoked ? "revoked" : "not revoked by the jobs-manager", expiredAt);
        }

        return dropped;
    }

    private bool IsSpentUnreachable(JobRecord job, DateTimeOffset now) =>
        job is { OutOfScope: true, Removed: false, State: JobState.Unreachable } && job.History.All(t => !t.IsUnexpired(now, options.Leeway));

    /// <summary>
    /// A launch failed after the token may have been written: revoke it rather than leave it valid,
    /// delete what the runtime may have created (unless the name belongs to someone else's job), forget.
    /// </summary>
    public async Task AbandonAsync(JobRecord.Lease lease, bool conflict)
    {
        var job = lease.Job;
        lease.BeginStop();
        try
        {
            await RevokeAsync(lease, "abandoned", CancellationToken.None).ConfigureAwait(false);
            if (!conflict)
            {
                await runtime.DeleteAsync(job.Ref, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.StopFailed(logger, job.Name, e);
        }

        table.Remove(lease);
        await jobLedger.ForgetQuietlyAsync(job.Name, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Revokes every unexpired token of the job and marks it revoked. A legacy replica that did not confirm its forget
    /// does not undo that (the list's end is written; finding B2 of 2026-12-02): it is returned, named, instead.
    /// </summary>
    /// <param name="reason">The audit trail's word for why: stop, gone, finished, abandoned or refused.</param>
    private async Task<(int Revoked, IReadOnlyList<string>? Unconfirmed)> RevokeAsync(JobRecord.Lease lease, string reason, CancellationToken cancellationToken)
    {
        lease.ForgetExpired(time.GetUtcNow(), options.Leeway);
        var tokens = lease.Job.History;
        int revoked;
        IReadOnlyList<string>? unconfirmed = null;
        try
        {
            revoked = await credentials.RevokeAsync(lease.Job.Name, tokens, cancellationToken).ConfigureAwait(false);
        }
        catch (ForgetUnconfirmedException e)
        {
            revoked = e.Revoked;
            unconfirmed = e.Replicas;
        }

        lease.MarkTokensRevoked();
        audit.Revoked(lease.Job.Name, tokens, reason);
        return (revoked, unconfirmed);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Stopped job {Job}: {Revoked} unexpired tokens revoked, job deleted")]
        public static partial void Stopped(ILogger logger, string job, int revoked);

        [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Job {Job} {State}: {Revoked} unexpired tokens revoked; it stays listed until DELETE")]
        public static partial void FinishedRevoked(ILogger logger, string job, string state, int revoked);

        [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Job {Job} from the job ledger no longer exists: {Revoked} unexpired tokens revoked, forgotten")]
        public static partial void ForgotGone(ILogger logger, string job, int revoked);

        [LoggerMessage(EventId = 109, Level = LogLevel.Information,
            Message = "Dropped job {Job} (namespace {Namespace}, not a job namespace, unreachable) from the job ledger: every token it held ({Revoked}) expired by {ExpiredAt}, so its revocation no longer matters; its Job, if still there, is the operator's to delete")]
        public static partial void ForgotSpentUnreachable(ILogger logger, string job, string @namespace, string revoked, DateTimeOffset? expiredAt);

        [LoggerMessage(EventId = 112, Level = LogLevel.Error, Message = "Could not stop job {Job}")]
        public static partial void StopFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 116, Level = LogLevel.Error, Message = "Could not revoke the tokens of finished job {Job}; retried on the next pass")]
        public static partial void FinishedRevokeFailed(ILogger logger, string job, Exception exception);
    }
}
