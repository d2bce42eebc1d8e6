using Microsoft.Extensions.Logging;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Keeps the job table in step with the ledger and the runtime: rebuilds it from the ledger at
/// start-up (jobs the runtime lost are revoked and forgotten through <see cref="JobStopper"/>), and
/// records each pass's runtime states — under each job's lease, skipping a job whose gate is busy
/// (its holder is starting or stopping it; the next pass reads it again). A job recorded in a namespace
/// the runtime does not list (<see cref="IJobRuntime.IsInScope"/>: the release-namespace layout before an
/// upgrade) is read where it is, and only a certain "gone" there revokes it — never being out of scope.
/// </summary>
/// <param name="legacyNamespace">Where a ledger entry without a namespace ran (written before job namespaces: the release namespace); null without namespaces.</param>
internal sealed partial class JobReconciler(JobTable table, IJobRuntime runtime, JobLedger jobLedger, JobStopper stopper, TimeProvider time, ILogger logger,
    string? legacyNamespace = null)
{
    private readonly SemaphoreSlim _restoreGate = new(1, 1);

    /// <summary>Jobs under our names that are not ours (name, uid), each reported once.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Name, string Uid), byte> _strangers = new();

    /// <summary>
    /// Rebuilds the job table from the ledger, then reconciles it with the runtime: a job the
    /// runtime no longer has gets its unexpired tokens revoked and is forgotten (a failure there
    /// leaves it listed as missing; a DELETE retries); a live one is refreshed from now on; a
    /// finished one has its tokens revoked by the next maintenance pass. Until this has succeeded
    /// once, start and stop answer 503. Returns false (and keeps the reason) when it failed.
    /// </summary>
    public async Task<bool> RestoreAsync(CancellationToken cancellationToken)
    {
        await _restoreGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (table.IsRestored)
            {
                return true;
            }

            DocumentSnapshot<JobLedgerDocument> snapshot;
            IReadOnlyList<RuntimeJob> listed;
            try
            {
                // Ledger first: a job launched after the runtime was listed is then at worst listed, never unseen.
                snapshot = await jobLedger.ReadAsync(cancellationToken).ConfigureAwait(false);
                listed = await runtime.ListAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                table.RestoreFailed($"could not read the job ledger at {jobLedger.Location} or the runtime's jobs: {e.Message}");
                Log.RestoreFailed(logger, jobLedger.Location, e);
                return false;
            }

            var gone = new List<JobRecord>();
            var identified = new List<JobRecord>();
            foreach (var entry in snapshot.Document.Jobs)
            {
                var ns = entry.Namespace ?? entry.Adopted?.Namespace ?? legacyNamespace;
                var inScope = runtime.IsInScope(ns);
                var reference = new JobRef(entry.Name, ns, entry.Adopted?.Uid ?? entry.Uid);
                RuntimeJob? seen;
                if (inScope)
                {
                    // By uid: a Job of the same name with another uid (deleted and created again with our labels) is not this job.
                    seen = RuntimeJob.Find(listed, reference, out var stranger);
                    if (stranger is not null)
                    {
                        ReportStranger(reference, stranger);
                    }
                }
                else
                {
                    var read = await OutOfScopeStateAsync(reference, JobState.Unreachable, cancellationToken).ConfigureAwait(false);
                    seen = read.State == JobState.Missing ? null : read;
                    Log.OutOfScope(logger, entry.Name, ns!, read.State == JobState.Unreachable ? "it may not read Jobs there: kept with its tokens, not refreshed; DELETE /v1/jobs/{name} revokes them" :
                        seen is not null ? $"found there ({read.State}): kept, refreshed and stopped there" : "gone from there: its tokens are revoked");
                }

                var present = seen is not null;
                var job = JobRecord.Restore(entry with { Namespace = ns }, seen?.State ?? JobState.Missing, runtime.TokenFileOf(entry.Name), outOfScope: !inScope);
                if (!table.TryRestore(job))
                {
                    continue;
                }

                if (!present)
                {
                    gone.Add(job);
                }
                else if (reference.Uid is null && seen!.Uid is { } uid && IdentifyUnlocked(job, uid))
                {
                    identified.Add(job);
                }
            }

            table.MarkRestored();
            Log.Restored(logger, snapshot.Document.Jobs.Count - gone.Count, gone.Count, jobLedger.Location);

            foreach (var job in gone)
            {
                await stopper.StopKnownAsync(job, gone: true, cancellationToken).ConfigureAwait(false);
            }

            foreach (var job in identified)
            {
                await jobLedger.SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _restoreGate.Release();
        }
    }

    /// <summary>
    /// Reads every job's state from the runtime (finished jobs are no longer refreshed). A job is matched to the
    /// listed Job of its uid only; one its ledger entry has no uid for yet (written before uids were recorded)
    /// to the Job of its name in its namespace, whose uid is then recorded, once.
    /// </summary>
    public async Task SyncStatesAsync(CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var listed = await runtime.ListAsync(cancellationToken).ConfigureAwait(false);
        foreach (var job in table.Jobs)
        {
            // Read where it is, before its gate is taken (a GET per such job and pass: an upgrade's leftovers, a handful).
            RuntimeJob? outOfScope = job.OutOfScope && !job.Removed
                ? await OutOfScopeStateAsync(job.Ref, job.State, cancellationToken).ConfigureAwait(false)
                : null;
            using (var lease = table.TryLock(job))
            {
                if (lease is null || job.Removed)
                {
                    continue;
                }

                var reference = job.Ref;
                RuntimeJob? seen;
                if (outOfScope is not null)
                {
                    if (outOfScope.State != job.State)
                    {
                        Log.OutOfScopeState(logger, job.Name, job.Spec.Namespace!, job.State, outOfScope.State);
                    }

                    lease.Observe(outOfScope.State);
                    seen = outOfScope;
                }
                else if ((seen = RuntimeJob.Find(listed, reference, out var stranger)) is not null)
                {
                    lease.Observe(seen.State);
                }
                else
                {
                    if (stranger is not null)
                    {
                        ReportStranger(reference, stranger);
                    }

                    // Another Job holds its name in its own namespace: ours is certainly gone, even one that never left Pending.
                    var taken = stranger is not null && stranger.Namespace == job.Spec.Namespace;
                    if (job.CreatedAt < startedAt && (job.State != JobState.Pending || taken))
                    {
                        lease.Observe(JobState.Missing);
                    }
                }

                if (reference.Uid is null && seen?.Uid is { } uid && seen.State is not (JobState.Missing or JobState.Unreachable) && lease.Identify(uid))
                {
                    Log.Identified(logger, job.Name, seen.Namespace ?? job.Spec.Namespace ?? "", uid);
                    await jobLedger.SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Restore only: the record is not in anyone's hands yet (no lease exists before the table is marked restored).</summary>
    private bool IdentifyUnlocked(JobRecord job, string uid)
    {
        var lease = table.TryLock(job);
        if (lease is null)
        {
            return false;
        }

        using (lease)
        {
            if (!lease.Identify(uid))
            {
                return false;
            }
        }

        Log.Identified(logger, job.Name, job.Spec.Namespace ?? "", uid);
        return true;
    }

    /// <summary>A Job under one of our names that is not ours: said once per (name, uid), then ignored.</summary>
    private void ReportStranger(JobRef job, RuntimeJob stranger)
    {
        if (_strangers.TryAdd((job.Name, stranger.Uid ?? ""), 0))
        {
            Log.NotOurs(logger, job.Name, stranger.Namespace ?? job.Namespace ?? "", stranger.Uid ?? "?", job.Uid ?? "?");
        }
    }

    /// <summary>The runtime's answer for a job outside the job namespaces; a failure to ask is no answer (<paramref name="unknown"/>), never "gone".</summary>
    private async Task<RuntimeJob> OutOfScopeStateAsync(JobRef job, JobState unknown, CancellationToken cancellationToken)
    {
        try
        {
            return await runtime.GetOutOfScopeStateAsync(job, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.OutOfScopeReadFailed(logger, job.Name, job.Namespace ?? "", e);
            return new RuntimeJob(job.Name, unknown, job.Namespace);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Job {Job} of the job ledger is in namespace {Namespace}, not a job namespace (an upgrade from the release-namespace layout?): {What}")]
        public static partial void OutOfScope(ILogger logger, string job, string @namespace, string what);

        [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "Job {Job} in namespace {Namespace} (not a job namespace) went from {Before} to {After}")]
        public static partial void OutOfScopeState(ILogger logger, string job, string @namespace, JobState before, JobState after);

        [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Could not read job {Job} in namespace {Namespace} (not a job namespace); its state is kept, retried on the next pass")]
        public static partial void OutOfScopeReadFailed(ILogger logger, string job, string @namespace, Exception exception);

        [LoggerMessage(EventId = 117, Level = LogLevel.Warning,
            Message = "A Job named {Job} in namespace {Namespace} (uid {Uid}) is not the job the jobs-manager knows by that name (uid {Recorded}): not ours, though it may carry our labels; nothing is refreshed, revoked or deleted on its behalf")]
        public static partial void NotOurs(ILogger logger, string job, string @namespace, string uid, string recorded);

        [LoggerMessage(EventId = 118, Level = LogLevel.Information,
            Message = "Job {Job} of the job ledger had no uid recorded (written before uids were): matched by name to the Job of uid {Uid} in namespace {Namespace}, recorded; from now on only that Job is this job")]
        public static partial void Identified(ILogger logger, string job, string @namespace, string uid);

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Restored {Live} jobs from the job ledger at {Location}; {Gone} no longer exist and are revoked and forgotten")]
        public static partial void Restored(ILogger logger, int live, int gone, string location);

        [LoggerMessage(EventId = 114, Level = LogLevel.Error, Message = "Could not read the job ledger at {Location}; start and stop wait for it, retried on the next pass")]
        public static partial void RestoreFailed(ILogger logger, string location, Exception exception);
    }
}
