using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The runtime-independent core: start (issue, record, deliver, launch), stop (revoke every
/// unexpired token the job ever held, then delete), refresh (half the lifetime left, or the active
/// kid changed), revoke the tokens of finished jobs, and prune. Each job's changes are serialized by
/// its own gate, so a refresh never mints after a stop has collected the jtis to revoke. Every token
/// is written to the durable job ledger before it is delivered, and the job table is rebuilt from
/// that ledger at start-up (<see cref="RestoreAsync"/>), so a restart forgets nothing.
/// </summary>
internal sealed partial class JobManager
{
    private const int RefreshParallelism = 8;

    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private readonly IJobRuntime _runtime;
    private readonly IJobCredentials _credentials;
    private readonly RevocationLedger _ledger;
    private readonly JobLedger _jobLedger;
    private readonly SemaphoreSlim _restoreGate = new(1, 1);
    private volatile bool _restored;
    private volatile string? _restoreProblem = "the job ledger has not been read yet";
    private readonly JobsManagerOptions _options;
    private readonly TimeProvider _time;
    private readonly JobsManagerMetrics _metrics;
    private readonly ILogger<JobManager> _logger;

    public JobManager(IJobRuntime runtime, IJobCredentials credentials, RevocationLedger ledger, JobLedger jobLedger, JobsManagerOptions options,
        TimeProvider time, JobsManagerMetrics metrics, ILogger<JobManager> logger)
    {
        _runtime = runtime;
        _credentials = credentials;
        _ledger = ledger;
        _jobLedger = jobLedger;
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        metrics.ObserveLiveJobs(() => _jobs.Count);
    }

    /// <summary>Tokens can be issued and the job table has been rebuilt from the ledger.</summary>
    public bool IsReady => _credentials.IsReady && _restored;

    /// <summary>True once the job table has been rebuilt from the ledger; until then start and stop answer 503.</summary>
    public bool IsRestored => _restored;

    /// <summary>Why the ledger has not been restored yet (null once it has).</summary>
    public string? RestoreProblem => _restoreProblem;

    public int Count => _jobs.Count;

    public IReadOnlyList<JobView> List() =>
        [.. _jobs.Values.Select(j => j.ToView()).OrderBy(j => j.CreatedAt).ThenBy(j => j.Name, StringComparer.Ordinal)];

    public JobView? Get(string name) => _jobs.TryGetValue(name, out var job) ? job.ToView() : null;

    public async Task<JobResult<JobView>> StartAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        if (_runtime.Validate(spec) is { } invalid)
        {
            return JobResult<JobView>.Fail(JobError.Invalid, invalid);
        }

        if (!_credentials.IsReady)
        {
            return JobResult<JobView>.Fail(JobError.NotReady, "the jobs-manager cannot issue tokens yet (no valid key ring or admin token)");
        }

        if (!_restored)
        {
            return JobResult<JobView>.Fail(JobError.NotReady, $"the jobs-manager has not read its job ledger yet ({_restoreProblem})");
        }

        var job = new JobRecord(spec, _time.GetUtcNow());
        if (!_jobs.TryAdd(spec.Name, job))
        {
            return JobResult<JobView>.Fail(JobError.Conflict, $"a job named '{spec.Name}' already exists");
        }

        await job.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            JobCredential credential;
            try
            {
                credential = await _credentials.IssueAsync(spec.Name, spec.Scope, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _jobs.TryRemove(spec.Name, out _);
                Log.IssueFailed(_logger, spec.Name, e);
                return JobResult<JobView>.Fail(JobError.Backend, $"could not issue a token for '{spec.Name}': {e.Message}");
            }

            job.Record(credential.Facts);
            _metrics.TokenIssued("start");
            try
            {
                // Before the token leaves this process: a token that exists is always in the ledger.
                await _jobLedger.SaveAsync(job.ToLedgerEntry(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Never delivered, so nothing to revoke; an entry that did land is reconciled at the next start-up.
                job.Removed = true;
                _jobs.TryRemove(new KeyValuePair<string, JobRecord>(spec.Name, job));
                return JobResult<JobView>.Fail(JobError.Backend, $"could not record '{spec.Name}' in the job ledger at {_jobLedger.Location}: {e.Message}");
            }

            try
            {
                var launched = await _runtime.LaunchAsync(spec, credential, cancellationToken).ConfigureAwait(false);
                job.MarkDelivered(credential.Facts);
                job.State = launched.State;
                job.TokenFile = launched.TokenFile;
            }
            catch (Exception e)
            {
                // The token may have been written before the launch failed: revoke it rather than leave it valid.
                await AbandonAsync(job, e is JobConflictException).ConfigureAwait(false);
                if (e is JobConflictException)
                {
                    return JobResult<JobView>.Fail(JobError.Conflict, e.Message);
                }

                if (e is OperationCanceledException)
                {
                    throw;
                }

                Log.LaunchFailed(_logger, spec.Name, e);
                return JobResult<JobView>.Fail(JobError.Backend, $"could not launch '{spec.Name}': {e.Message}");
            }

            await SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
            _metrics.JobStarted();
            Log.Started(_logger, spec.Name, credential.Facts.Jti, credential.Facts.Kid, credential.Facts.ExpiresAt);
            return JobResult<JobView>.Ok(job.ToView());
        }
        finally
        {
            job.Gate.Release();
        }
    }

    /// <summary>
    /// Revokes every unexpired token the job ever held, then deletes it. Idempotent: an unknown job
    /// is still deleted from the runtime and reported as not known.
    /// </summary>
    public async Task<JobResult<StopOutcome>> StopAsync(string name, CancellationToken cancellationToken)
    {
        if (!_restored)
        {
            // Before the ledger is read, an unknown job may be one whose tokens it lists: refuse, don't skip the revocation.
            return JobResult<StopOutcome>.Fail(JobError.NotReady, $"the jobs-manager has not read its job ledger yet ({_restoreProblem})");
        }

        if (!_jobs.TryGetValue(name, out var job))
        {
            try
            {
                if (!_credentials.Expires)
                {
                    // Legacy: the proxy forgets every token of the subject, known to us or not.
                    await _credentials.RevokeAsync(name, [], cancellationToken).ConfigureAwait(false);
                }

                await _runtime.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.StopFailed(_logger, name, e);
                return JobResult<StopOutcome>.Fail(JobError.Backend, $"could not stop '{name}': {e.Message}");
            }

            return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: false, Revoked: 0));
        }

        return await StopKnownAsync(job, gone: false, cancellationToken).ConfigureAwait(false);
    }

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
            if (_restored)
            {
                return true;
            }

            JobLedgerSnapshot snapshot;
            IReadOnlyDictionary<string, JobState> states;
            try
            {
                // Ledger first: a job launched after the runtime was listed is then at worst listed, never unseen.
                snapshot = await _jobLedger.ReadAsync(cancellationToken).ConfigureAwait(false);
                states = await _runtime.GetStatesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _restoreProblem = $"could not read the job ledger at {_jobLedger.Location} or the runtime's jobs: {e.Message}";
                Log.RestoreFailed(_logger, _jobLedger.Location, e);
                return false;
            }

            var gone = new List<JobRecord>();
            foreach (var entry in snapshot.Document.Jobs)
            {
                var present = states.TryGetValue(entry.Name, out var state);
                var job = JobRecord.Restore(entry, present ? state : JobState.Missing, _runtime.TokenFileOf(entry.Name));
                if (_jobs.TryAdd(entry.Name, job) && !present)
                {
                    gone.Add(job);
                }
            }

            _restored = true;
            _restoreProblem = null;
            Log.Restored(_logger, snapshot.Document.Jobs.Count - gone.Count, gone.Count, _jobLedger.Location);

            foreach (var job in gone)
            {
                await StopKnownAsync(job, gone: true, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _restoreGate.Release();
        }
    }

    /// <summary>
    /// Revokes the unexpired tokens of every finished (succeeded or failed) job: a job that no longer
    /// runs has no use for them, and a copy must not outlive it. The job stays listed until a DELETE,
    /// which then only deletes. Returns how many jobs it revoked.
    /// </summary>
    public async Task<int> RevokeFinishedAsync(CancellationToken cancellationToken)
    {
        var revokedJobs = 0;
        foreach (var job in _jobs.Values)
        {
            if (!IsFinishedWithLiveTokens(job))
            {
                continue;
            }

            await job.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!IsFinishedWithLiveTokens(job))
                {
                    continue;
                }

                job.ForgetExpired(_time.GetUtcNow(), _options.Leeway);
                int revoked;
                try
                {
                    revoked = await _credentials.RevokeAsync(job.Name, job.History, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.FinishedRevokeFailed(_logger, job.Name, e);
                    continue;
                }

                job.TokensRevoked = true;
                await SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
                _metrics.JobFinished();
                revokedJobs++;
                Log.FinishedRevoked(_logger, job.Name, ApiStateName(job.State), revoked);
            }
            finally
            {
                job.Gate.Release();
            }
        }

        return revokedJobs;
    }

    private static bool IsFinishedWithLiveTokens(JobRecord job) =>
        job is { Stopping: false, Removed: false, TokensRevoked: false, State: JobState.Succeeded or JobState.Failed };

    private static string ApiStateName(JobState state) => state == JobState.Succeeded ? "succeeded" : "failed";

    /// <summary>Revoke, then delete, then forget. <paramref name="gone"/>: the runtime had already lost the job (found at start-up).</summary>
    private async Task<JobResult<StopOutcome>> StopKnownAsync(JobRecord job, bool gone, CancellationToken cancellationToken)
    {
        var name = job.Name;
        await job.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (job.Removed)
            {
                return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: true, Revoked: 0));
            }

            job.Stopping = true;
            job.ForgetExpired(_time.GetUtcNow(), _options.Leeway);
            var revoked = 0;
            if (!job.TokensRevoked)
            {
                try
                {
                    revoked = await _credentials.RevokeAsync(name, job.History, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Nothing was revoked, so the job keeps running with its token refreshed as before.
                    job.Stopping = false;
                    Log.StopFailed(_logger, name, e);
                    return JobResult<StopOutcome>.Fail(JobError.Backend, $"could not revoke the tokens of '{name}': {e.Message}");
                }

                job.TokensRevoked = true;
            }

            try
            {
                await _runtime.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Revoked but still there: stays Stopping (no refresh); a repeated DELETE finishes the job.
                Log.StopFailed(_logger, name, e);
                await SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
                return JobResult<StopOutcome>.Fail(JobError.Backend, $"revoked the tokens of '{name}' but could not delete it: {e.Message}");
            }

            job.Removed = true;
            _jobs.TryRemove(new KeyValuePair<string, JobRecord>(name, job));
            await ForgetQuietlyAsync(name, cancellationToken).ConfigureAwait(false);
            if (gone)
            {
                Log.ForgotGone(_logger, name, revoked);
            }
            else
            {
                _metrics.JobStopped();
                Log.Stopped(_logger, name, revoked);
            }

            return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: true, revoked));
        }
        finally
        {
            job.Gate.Release();
        }
    }

    /// <summary>
    /// Re-issues the token of every live job that needs it: less than half its lifetime left,
    /// or signed with a kid that is no longer active. Returns how many were re-issued.
    /// </summary>
    public async Task<int> RefreshAsync(CancellationToken cancellationToken)
    {
        if (!_credentials.Expires || !_credentials.IsReady)
        {
            return 0;
        }

        var refreshed = 0;
        await Parallel.ForEachAsync(_jobs.Values, new ParallelOptions { MaxDegreeOfParallelism = RefreshParallelism, CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                if (NeedsRefresh(job) is null)
                {
                    return;
                }

                await job.Gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    if (NeedsRefresh(job) is { } reason && await RefreshOneAsync(job, reason, ct).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref refreshed);
                    }
                }
                finally
                {
                    job.Gate.Release();
                }
            }).ConfigureAwait(false);
        return refreshed;
    }

    /// <summary>Reads every job's state from the runtime (finished jobs are no longer refreshed).</summary>
    public async Task SyncStatesAsync(CancellationToken cancellationToken)
    {
        var startedAt = _time.GetUtcNow();
        var states = await _runtime.GetStatesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var job in _jobs.Values)
        {
            if (states.TryGetValue(job.Name, out var state))
            {
                job.State = state;
            }
            else if (job.CreatedAt < startedAt && job.State != JobState.Pending)
            {
                job.State = JobState.Missing;
            }
        }
    }

    /// <summary>Prunes the revocation list and the job ledger (both by exp + leeway); returns the revocation entries dropped.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var removed = await _ledger.PruneAsync(cancellationToken).ConfigureAwait(false);
        await _jobLedger.PruneAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>Live tokens per kid, including every kid of the ring (zero when unused).</summary>
    public KeyUsage KeyUsage(IEnumerable<string> ringKids)
    {
        var now = _time.GetUtcNow();
        var active = _credentials.ActiveKid;
        var ring = ringKids.ToHashSet(StringComparer.Ordinal);
        var byKid = new Dictionary<string, (int Live, int Current, DateTimeOffset? Latest)>(StringComparer.Ordinal);
        foreach (var kid in ring)
        {
            byKid[kid] = (0, 0, null);
        }

        foreach (var job in _jobs.Values)
        {
            if (job.TokensRevoked)
            {
                // Revoked tokens no longer verify, so they do not hold a key back from retirement.
                continue;
            }

            var (history, current) = job.Snapshot();
            foreach (var token in history)
            {
                if (token.Kid is not { } kid || !token.IsUnexpired(now, _options.Leeway))
                {
                    continue;
                }

                var usage = byKid.GetValueOrDefault(kid);
                var latest = usage.Latest is { } l && l > token.ExpiresAt ? l : token.ExpiresAt;
                byKid[kid] = (usage.Live + 1, usage.Current + (ReferenceEquals(token, current) ? 1 : 0), latest);
            }
        }

        var keys = byKid
            .OrderBy(k => Tokens.Keys.KeyRingRules.KidNumber(k.Key))
            .Select(k => new KidUsage(k.Key, k.Key == active, ring.Contains(k.Key), k.Value.Live, k.Value.Current, k.Value.Latest))
            .ToList();
        return new KeyUsage(active, keys);
    }

    private string? NeedsRefresh(JobRecord job)
    {
        if (job.Stopping || job.Removed || job.TokensRevoked || job.State is JobState.Succeeded or JobState.Failed or JobState.Missing or JobState.Stopping)
        {
            return null;
        }

        if (job.Current is not { ExpiresAt: { } expiresAt } current)
        {
            return "refresh";
        }

        if (_credentials.ActiveKid is { } active && current.Kid != active)
        {
            return "rotation";
        }

        var lifetime = expiresAt - current.IssuedAt;
        return expiresAt - _time.GetUtcNow() < lifetime / 2 ? "refresh" : null;
    }

    private async Task<bool> RefreshOneAsync(JobRecord job, string reason, CancellationToken cancellationToken)
    {
        JobCredential credential;
        try
        {
            credential = await _credentials.IssueAsync(job.Name, job.Spec.Scope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.IssueFailed(_logger, job.Name, e);
            return false;
        }

        job.ForgetExpired(_time.GetUtcNow(), _options.Leeway);
        job.Record(credential.Facts);
        _metrics.TokenIssued(reason);
        try
        {
            // Before delivery: a token that exists is always in the ledger.
            await _jobLedger.SaveAsync(job.ToLedgerEntry(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never delivered: take it back; the job keeps its previous token and the next check retries.
            job.Unrecord(credential.Facts);
            _metrics.DeliveryFailed();
            Log.DeliveryFailed(_logger, job.Name, credential.Facts.Jti, e);
            return false;
        }

        try
        {
            await _runtime.DeliverAsync(job.Name, credential, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The job still holds its previous token; the next check tries again.
            _metrics.DeliveryFailed();
            Log.DeliveryFailed(_logger, job.Name, credential.Facts.Jti, e);
            return false;
        }

        job.MarkDelivered(credential.Facts);
        await SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
        Log.Refreshed(_logger, job.Name, credential.Facts.Jti, credential.Facts.Kid, credential.Facts.ExpiresAt, reason);
        return true;
    }

    private async Task AbandonAsync(JobRecord job, bool conflict)
    {
        job.Stopping = true;
        try
        {
            await _credentials.RevokeAsync(job.Name, job.History, CancellationToken.None).ConfigureAwait(false);
            if (!conflict)
            {
                // A conflict means the name belongs to someone else's job: never delete that one.
                await _runtime.DeleteAsync(job.Name, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.StopFailed(_logger, job.Name, e);
        }

        job.Removed = true;
        _jobs.TryRemove(new KeyValuePair<string, JobRecord>(job.Name, job));
        await ForgetQuietlyAsync(job.Name, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Records a change that is not a new token (which current token was delivered, revoked flags).
    /// A failure is logged, not fatal: the ledger already holds every token, and the next write of
    /// this job carries the change.
    /// </summary>
    private async Task SaveQuietlyAsync(JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            await _jobLedger.SaveAsync(job.ToLedgerEntry(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LedgerWriteDeferred(_logger, job.Name, e);
        }
    }

    /// <summary>
    /// Forgets a job whose tokens are revoked. A failure leaves a stale entry that the next
    /// start-up reconciles (the job is gone: its already-revoked jtis are revoked again, harmlessly).
    /// </summary>
    private async Task ForgetQuietlyAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _jobLedger.ForgetAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LedgerWriteDeferred(_logger, name, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Started job {Job} with token {Jti} (kid {Kid}, expires {ExpiresAt})")]
        public static partial void Started(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Stopped job {Job}: {Revoked} unexpired tokens revoked, job deleted")]
        public static partial void Stopped(ILogger logger, string job, int revoked);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Re-issued the token of job {Job}: {Jti} (kid {Kid}, expires {ExpiresAt}, reason {Reason})")]
        public static partial void Refreshed(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt, string reason);

        [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Job {Job} {State}: {Revoked} unexpired tokens revoked; it stays listed until DELETE")]
        public static partial void FinishedRevoked(ILogger logger, string job, string state, int revoked);

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Restored {Live} jobs from the job ledger at {Location}; {Gone} no longer exist and are revoked and forgotten")]
        public static partial void Restored(ILogger logger, int live, int gone, string location);

        [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "Job {Job} from the job ledger no longer exists: {Revoked} unexpired tokens revoked, forgotten")]
        public static partial void ForgotGone(ILogger logger, string job, int revoked);

        [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "Could not issue a token for job {Job}")]
        public static partial void IssueFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Could not launch job {Job}")]
        public static partial void LaunchFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 112, Level = LogLevel.Error, Message = "Could not stop job {Job}")]
        public static partial void StopFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 113, Level = LogLevel.Warning, Message = "Could not deliver token {Jti} to job {Job}; it keeps its previous token and the next check retries")]
        public static partial void DeliveryFailed(ILogger logger, string job, string jti, Exception exception);

        [LoggerMessage(EventId = 114, Level = LogLevel.Error, Message = "Could not read the job ledger at {Location}; start and stop wait for it, retried on the next pass")]
        public static partial void RestoreFailed(ILogger logger, string location, Exception exception);

        [LoggerMessage(EventId = 115, Level = LogLevel.Warning, Message = "Could not record a change of job {Job} in the job ledger; the next write of the job carries it")]
        public static partial void LedgerWriteDeferred(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 116, Level = LogLevel.Error, Message = "Could not revoke the tokens of finished job {Job}; retried on the next pass")]
        public static partial void FinishedRevokeFailed(ILogger logger, string job, Exception exception);
    }
}
