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
            IReadOnlyDictionary<string, JobState> states;
            try
            {
                // Ledger first: a job launched after the runtime was listed is then at worst listed, never unseen.
                snapshot = await jobLedger.ReadAsync(cancellationToken).ConfigureAwait(false);
                states = await runtime.GetStatesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                table.RestoreFailed($"could not read the job ledger at {jobLedger.Location} or the runtime's jobs: {e.Message}");
                Log.RestoreFailed(logger, jobLedger.Location, e);
                return false;
            }

            var gone = new List<JobRecord>();
            foreach (var entry in snapshot.Document.Jobs)
            {
                var ns = entry.Namespace ?? entry.Adopted?.Namespace ?? legacyNamespace;
                var inScope = runtime.IsInScope(ns);
                JobState state;
                bool present;
                if (inScope)
                {
                    present = states.TryGetValue(entry.Name, out state);
                }
                else
                {
                    state = await OutOfScopeStateAsync(entry.Name, ns!, entry.Adopted?.Uid, JobState.Unreachable, cancellationToken).ConfigureAwait(false);
                    present = state != JobState.Missing;
                    Log.OutOfScope(logger, entry.Name, ns!, state == JobState.Unreachable ? "it may not read Jobs there: kept with its tokens, not refreshed; DELETE /v1/jobs/{name} revokes them" :
                        present ? $"found there ({state}): kept, refreshed and stopped there" : "gone from there: its tokens are revoked");
                }

                var job = JobRecord.Restore(entry with { Namespace = ns }, present ? state : JobState.Missing, runtime.TokenFileOf(entry.Name), outOfScope: !inScope);
                if (table.TryRestore(job) && !present)
                {
                    gone.Add(job);
                }
            }

            table.MarkRestored();
            Log.Restored(logger, snapshot.Document.Jobs.Count - gone.Count, gone.Count, jobLedger.Location);

            foreach (var job in gone)
            {
                await stopper.StopKnownAsync(job, gone: true, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _restoreGate.Release();
        }
    }

    /// <summary>Reads every job's state from the runtime (finished jobs are no longer refreshed).</summary>
    public async Task SyncStatesAsync(CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var states = await runtime.GetStatesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var job in table.Jobs)
        {
            // Read where it is, before its gate is taken (a GET per such job and pass: an upgrade's leftovers, a handful).
            JobState? outOfScope = job.OutOfScope && !job.Removed
                ? await OutOfScopeStateAsync(job.Name, job.Spec.Namespace!, job.Spec.Adopted?.Uid, job.State, cancellationToken).ConfigureAwait(false)
                : null;
            using var lease = table.TryLock(job);
            if (lease is null || job.Removed)
            {
                continue;
            }

            if (outOfScope is { } seen)
            {
                if (seen != job.State)
                {
                    Log.OutOfScopeState(logger, job.Name, job.Spec.Namespace!, job.State, seen);
                }

                lease.Observe(seen);
            }
            else if (states.TryGetValue(job.Name, out var state))
            {
                lease.Observe(state);
            }
            else if (job.CreatedAt < startedAt && job.State != JobState.Pending)
            {
                lease.Observe(JobState.Missing);
            }
        }
    }

    /// <summary>The runtime's answer for a job outside the job namespaces; a failure to ask is no answer (<paramref name="unknown"/>), never "gone".</summary>
    private async Task<JobState> OutOfScopeStateAsync(string name, string ns, string? adoptedUid, JobState unknown, CancellationToken cancellationToken)
    {
        try
        {
            return await runtime.GetOutOfScopeStateAsync(name, ns, adoptedUid, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.OutOfScopeReadFailed(logger, name, ns, e);
            return unknown;
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

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Restored {Live} jobs from the job ledger at {Location}; {Gone} no longer exist and are revoked and forgotten")]
        public static partial void Restored(ILogger logger, int live, int gone, string location);

        [LoggerMessage(EventId = 114, Level = LogLevel.Error, Message = "Could not read the job ledger at {Location}; start and stop wait for it, retried on the next pass")]
        public static partial void RestoreFailed(ILogger logger, string location, Exception exception);
    }
}
