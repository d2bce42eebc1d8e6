using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>
/// Adopt mode: a Job another tool created, labelled <see cref="AdoptionNames.Label"/>, gets a token
/// like the jobs-manager's own jobs — a new record added with its gate held, then the first token
/// through <see cref="TokenDelivery"/> (lease → ledger → delivery) with the token Secret's creation as
/// the delivery. From then on it is an ordinary job of the table: refreshed by
/// <see cref="TokenRefresher"/>, its tokens revoked by <see cref="JobStopper"/> when it finishes, when it
/// is deleted (or replaced by a new Job of the same name), or on <c>DELETE /v1/jobs/{name}</c>. Driven
/// by the watch's events and, every maintenance pass, by the whole <see cref="AdoptionCache"/> (so a
/// failed or postponed adoption is retried without another call to the cluster). A Job whose manifest
/// breaks the validator's rules (<see cref="ObservedJob.Problems"/>) gets no token: the reason is logged,
/// audited, written as a Warning Event on the Job, and listed by <c>GET /v1/jobs</c> (<see cref="Refusals"/>).
/// </summary>
internal sealed partial class JobAdopter(
    JobTable table, AdoptionCache cache, IAdoptionDelivery adoption, IJobRuntime runtime, IJobCredentials credentials, TokenDelivery delivery,
    JobStopper stopper, JobLedger jobLedger, JobsManagerOptions options, TimeProvider time, JobsManagerMetrics metrics, JobAudit audit, ILogger logger)
{
    /// <summary>The reason of the Warning Event on a Job that gets no token (kubectl describe job shows it).</summary>
    public const string RefusedEventReason = "RequestsProxyTokenRefused";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(5);

    /// <summary>Jobs whose token Secret name is taken: when to try again, and the wait after that.</summary>
    private readonly ConcurrentDictionary<AdoptedJob, (DateTimeOffset At, TimeSpan Backoff)> _blocked = new();

    /// <summary>
    /// Labelled Jobs that get no token (their name is another job's, or their manifest breaks a rule), with
    /// why and since when: reported once per incarnation (log, audit, Event), listed until the Job goes.
    /// </summary>
    private readonly ConcurrentDictionary<AdoptedJob, (string Why, DateTimeOffset Since)> _refused = new();

    /// <summary>The labelled Jobs refused a token, as the API lists them (state refused, the reason as the problem).</summary>
    public IReadOnlyList<JobView> Refusals =>
        [.. _refused.Where(r => cache.Find(r.Key) is not null).Select(r => new JobView(r.Key.Name, JobState.Refused, null, [], options.DefaultScope, r.Value.Since, null, 0, null,
            Namespace: r.Key.Namespace, Adopted: true, Problem: r.Value.Why))];

    /// <summary>Why that very Job (same uid) gets no token, or null.</summary>
    public string? RefusalOf(AdoptedJob job) => _refused.TryGetValue(job, out var refusal) ? refusal.Why : null;

    /// <summary>
    /// What the watch saw of one labelled Job (added or modified): adopt it if it is new and running,
    /// record its state if it is ours, revoke its tokens once it finished or is being deleted.
    /// Before the table is rebuilt from the ledger (or without a key ring) it waits for the next pass.
    /// </summary>
    public async Task ObserveAsync(ObservedJob observed, CancellationToken cancellationToken)
    {
        if (!table.IsRestored || !credentials.IsReady)
        {
            return;
        }

        try
        {
            await ObserveCoreAsync(observed, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.JobAdopted("failed");
            Log.AdoptionFailed(logger, observed.Job.ToString(), e);
        }
    }

    /// <summary>The Job is gone (deleted, or replaced by a new one of the same name): revoke its tokens and forget it.</summary>
    public async Task GoneAsync(AdoptedJob job, CancellationToken cancellationToken)
    {
        _blocked.TryRemove(job, out _);
        _refused.TryRemove(job, out _);
        if (!table.IsRestored || !table.TryGet(job.Name, out var record) || record.Spec.Adopted != job)
        {
            return;
        }

        var result = await stopper.StopKnownAsync(record, gone: true, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            Log.GoneFailed(logger, job.ToString(), result.Message ?? "");
        }
    }

    /// <summary>
    /// One maintenance pass over everything the watch has seen: adopts what is still waiting, and
    /// forgets adopted jobs whose Job is no longer there. Nothing before every namespace was listed.
    /// </summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        if (!cache.IsSynced || !table.IsRestored)
        {
            return;
        }

        foreach (var observed in cache.Snapshot())
        {
            await ObserveAsync(observed, cancellationToken).ConfigureAwait(false);
        }

        foreach (var job in table.Jobs)
        {
            // A Job of a namespace no longer watched is not gone for being unseen: the reconciler reads it where it is.
            if (job.Spec.Adopted is { } adopted && cache.Namespaces.Contains(adopted.Namespace, StringComparer.Ordinal) && cache.Find(adopted) is null)
            {
                await GoneAsync(adopted, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var refused in _refused.Keys.Where(j => cache.Find(j) is null))
        {
            _refused.TryRemove(refused, out _);
        }
    }

    private async Task ObserveCoreAsync(ObservedJob observed, CancellationToken cancellationToken)
    {
        var job = observed.Job;
        if (table.TryGet(job.Name, out var record))
        {
            if (record.Spec.Adopted == job)
            {
                if (!observed.IsValid)
                {
                    // Changed since it got its token (a suspended Job's template labels and annotations, the Job's labels are mutable):
                    // its tokens go, the Job stays (it is not ours to delete).
                    if (await stopper.RevokeOnlyAsync(record, "refused", cancellationToken).ConfigureAwait(false))
                    {
                        await RefuseInvalidAsync(job, observed.Problems!, cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                await ObserveKnownAsync(record, observed.State, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (record.Spec.Adopted is { } earlier && earlier.Namespace == job.Namespace)
            {
                // The same name, a new uid: the Job was deleted and created again; the old one's tokens go.
                await GoneAsync(earlier, cancellationToken).ConfigureAwait(false);
                if (table.TryGet(job.Name, out _))
                {
                    return;
                }
            }
            else
            {
                Refuse(job, record.Spec.Adopted is { } other ? $"the Job {other} holds that name" : "a job of that name was started through the API");
                return;
            }
        }

        // A finished Job, or one being deleted, has no use for a token.
        if (observed.State is not (JobState.Pending or JobState.Running) || IsPostponed(job))
        {
            return;
        }

        if (!observed.IsValid)
        {
            await RefuseInvalidAsync(job, observed.Problems!, cancellationToken).ConfigureAwait(false);
            return;
        }

        await AdoptAsync(observed, cancellationToken).ConfigureAwait(false);
    }

    private async Task ObserveKnownAsync(JobRecord record, JobState state, CancellationToken cancellationToken)
    {
        if (state == JobState.Stopping)
        {
            // Being deleted: its pods are going; revoke now rather than at the DELETED event.
            await GoneAsync(record.Spec.Adopted!, cancellationToken).ConfigureAwait(false);
            return;
        }

        using (var lease = await table.LockAsync(record, cancellationToken).ConfigureAwait(false))
        {
            if (record.Removed || record.Stopping)
            {
                return;
            }

            lease.Observe(state);
        }

        if (record.IsFinishedWithLiveTokens)
        {
            // At once, not at the next pass: a finished Job's token must not outlive it.
            await stopper.RevokeFinishedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AdoptAsync(ObservedJob observed, CancellationToken cancellationToken)
    {
        var job = observed.Job;
        var spec = new JobSpec(job.Name, null, [], [], options.DefaultScope, new Dictionary<string, string>(StringComparer.Ordinal), Namespace: job.Namespace, Adopted: job);
        using var lease = table.TryAdd(new JobRecord(spec, time.GetUtcNow()));
        if (lease is null)
        {
            // Another path added the name a moment ago; the next observation sees its record.
            return;
        }

        var result = await delivery.IssueAndDeliverAsync(lease, "adopt", async (credential, ct) =>
        {
            await adoption.DeliverAsync(job, credential, first: true, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        switch (result.Stage)
        {
            case TokenDeliveryStage.Issue or TokenDeliveryStage.Ledger:
                table.Remove(lease);
                metrics.JobAdopted("failed");
                Log.AdoptionFailed(logger, job.ToString(), result.Error!);
                return;

            case TokenDeliveryStage.Delivery when result.Error is AdoptionBlockedException blocked:
                // The API refused the create: the token never left this process, so there is nothing to revoke.
                table.Remove(lease);
                await jobLedger.ForgetQuietlyAsync(job.Name, CancellationToken.None).ConfigureAwait(false);
                var retry = Postpone(job);
                metrics.JobAdopted("blocked");
                Log.AdoptionBlocked(logger, job.ToString(), blocked.Message, retry);
                return;

            case TokenDeliveryStage.Delivery:
                // The Secret may have been written: revoke the token and forget the job (never delete someone else's Job).
                await stopper.AbandonAsync(lease, conflict: true).ConfigureAwait(false);
                if (result.Error is OperationCanceledException)
                {
                    throw result.Error;
                }

                Postpone(job);
                metrics.JobAdopted("failed");
                Log.AdoptionFailed(logger, job.ToString(), result.Error!);
                return;
        }

        lease.Launched(new LaunchedJob(observed.State, runtime.TokenFileOf(job.Name)));
        _blocked.TryRemove(job, out _);
        _refused.TryRemove(job, out _);
        metrics.JobAdopted("adopted");
        var facts = result.Credential!.Facts;
        Log.Adopted(logger, job.ToString(), facts.Jti, facts.Kid, facts.ExpiresAt);
    }

    private void Refuse(AdoptedJob job, string why)
    {
        if (_refused.TryAdd(job, ($"{why}: job names are unique across the jobs-manager's jobs and watched namespaces", time.GetUtcNow())))
        {
            metrics.JobAdopted("refused");
            Log.Refused(logger, job.ToString(), why);
        }
    }

    /// <summary>
    /// Its manifest breaks the rules a start request is held to: no token, and the reason where each
    /// audience looks — the log and the audit trail (operators), a Warning Event on the Job (whoever ran
    /// kubectl apply: <c>kubectl describe job</c>), <c>GET /v1/jobs</c> (state refused). Once per incarnation.
    /// </summary>
    private async Task RefuseInvalidAsync(AdoptedJob job, IReadOnlyList<string> problems, CancellationToken cancellationToken)
    {
        var why = $"its manifest breaks the jobs-manager's rules (docs/jobs-manager.md, what validation refuses): {string.Join("; ", problems)}";
        if (!_refused.TryAdd(job, (why, time.GetUtcNow())))
        {
            return;
        }

        metrics.JobAdopted("invalid");
        Log.Invalid(logger, job.ToString(), problems.Count, string.Join("; ", problems));
        audit.AdoptionRefused(job.Name, job.Namespace, why);
        try
        {
            await adoption.WarnAsync(job, RefusedEventReason, $"No requests-proxy token for this Job: {why}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reason is in the log, the audit trail and the API already; the Event is a courtesy.
            Log.EventFailed(logger, job.ToString(), e);
        }
    }

    private bool IsPostponed(AdoptedJob job) => _blocked.TryGetValue(job, out var blocked) && time.GetUtcNow() < blocked.At;

    private TimeSpan Postpone(AdoptedJob job)
    {
        var entry = _blocked.AddOrUpdate(job,
            _ => (time.GetUtcNow() + FirstRetry, FirstRetry),
            (_, previous) =>
            {
                var next = TimeSpan.FromTicks(Math.Min(previous.Backoff.Ticks * 2, LastRetry.Ticks));
                return (time.GetUtcNow() + next, next);
            });
        return entry.Backoff;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "Adopted Job {Job}: token {Jti} (kid {Kid}, expires {ExpiresAt}) in its token Secret")]
        public static partial void Adopted(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt);

        [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "Not adopting Job {Job}: {Why}. Job names must be unique across the jobs-manager's jobs and watched namespaces")]
        public static partial void Refused(ILogger logger, string job, string why);

        [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "Cannot adopt Job {Job} yet: {Why}; retried in {Retry}")]
        public static partial void AdoptionBlocked(ILogger logger, string job, string why, TimeSpan retry);

        [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "Could not adopt Job {Job}; retried on a later pass")]
        public static partial void AdoptionFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 124, Level = LogLevel.Error, Message = "Could not revoke the tokens of the adopted Job {Job}, which is gone: {Problem}; retried on the next pass")]
        public static partial void GoneFailed(ILogger logger, string job, string problem);

        [LoggerMessage(EventId = 125, Level = LogLevel.Warning, Message = "Not giving labelled Job {Job} a token: its manifest breaks {Count} of the jobs-manager's rules: {Problems}")]
        public static partial void Invalid(ILogger logger, string job, int count, string problems);

        [LoggerMessage(EventId = 126, Level = LogLevel.Warning, Message = "Could not write the Warning Event on Job {Job} (the reason stays in this log, the audit trail and GET /v1/jobs)")]
        public static partial void EventFailed(ILogger logger, string job, Exception exception);
    }
}
