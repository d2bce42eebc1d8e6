using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Starts a job: checks, a new record added with its gate held, then the first token through
/// <see cref="TokenDelivery"/> with the runtime's launch as the delivery. A launch that fails after
/// the token may have been written is abandoned (revoked, deleted, forgotten) by <see cref="JobStopper"/>.
/// </summary>
internal sealed partial class JobStarter(
    JobTable table, IJobRuntime runtime, IJobCredentials credentials, TokenDelivery delivery, JobStopper stopper, JobLedger jobLedger,
    TimeProvider time, JobsManagerMetrics metrics, ILogger logger)
{
    public async Task<JobResult<JobView>> StartAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        if (runtime.Validate(spec) is { } invalid)
        {
            return JobResult<JobView>.Fail(JobError.Invalid, invalid);
        }

        if (!credentials.IsReady)
        {
            return JobResult<JobView>.Fail(JobError.NotReady, "the jobs-manager cannot issue tokens yet (no valid key ring or admin token)");
        }

        if (!table.IsRestored)
        {
            return JobResult<JobView>.Fail(JobError.NotReady, $"the jobs-manager has not read its job ledger yet ({table.RestoreProblem})");
        }

        using var lease = table.TryAdd(new JobRecord(spec, time.GetUtcNow()));
        if (lease is null)
        {
            return JobResult<JobView>.Fail(JobError.Conflict, $"a job named '{spec.Name}' already exists");
        }

        var result = await delivery.IssueAndDeliverAsync(lease, "start", async (credential, ct) =>
        {
            var launched = await runtime.LaunchAsync(spec, credential, ct).ConfigureAwait(false);
            // Before the delivery is recorded, so the ledger write that follows carries the Job's uid (a restart
            // then knows which Job is this one). Should the process die before that write, the entry has no uid and
            // its first match by name records it (docs/jobs-manager.md, the job ledger).
            lease.Launched(launched);
            return launched;
        }, cancellationToken).ConfigureAwait(false);
        switch (result.Stage)
        {
            case TokenDeliveryStage.Issue:
                table.Remove(lease);
                Log.IssueFailed(logger, spec.Name, result.Error!);
                return JobResult<JobView>.Fail(result.Error is DocumentTooLargeException ? JobError.Full : JobError.Backend,
                    $"could not issue a token for '{spec.Name}': {result.Error!.Message}");

            case TokenDeliveryStage.Ledger:
                table.Remove(lease);
                return JobResult<JobView>.Fail(result.Error is DocumentTooLargeException ? JobError.Full : JobError.Backend,
                    $"could not record '{spec.Name}' in the job ledger at {jobLedger.Location}: {result.Error!.Message}");

            case TokenDeliveryStage.Delivery:
                var conflict = result.Error is JobConflictException;
                await stopper.AbandonAsync(lease, conflict).ConfigureAwait(false);
                if (conflict)
                {
                    return JobResult<JobView>.Fail(JobError.Conflict, result.Error!.Message);
                }

                if (result.Error is OperationCanceledException)
                {
                    throw result.Error;
                }

                Log.LaunchFailed(logger, spec.Name, result.Error!);
                return JobResult<JobView>.Fail(JobError.Backend, $"could not launch '{spec.Name}': {result.Error!.Message}");
        }

        var facts = result.Credential!.Facts;
        metrics.JobStarted();
        Log.Started(logger, spec.Name, facts.Jti, facts.Kid, facts.ExpiresAt);
        return JobResult<JobView>.Ok(lease.Job.ToView());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Started job {Job} with token {Jti} (kid {Kid}, expires {ExpiresAt})")]
        public static partial void Started(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt);

        [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "Could not issue a token for job {Job}")]
        public static partial void IssueFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Could not launch job {Job}")]
        public static partial void LaunchFailed(ILogger logger, string job, Exception exception);
    }
}
