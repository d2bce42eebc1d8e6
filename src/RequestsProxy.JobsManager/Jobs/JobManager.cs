using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The runtime-independent core: start (issue, deliver, launch), stop (revoke every unexpired
/// token the job ever held, then delete), refresh (half the lifetime left, or the active kid
/// changed) and prune. Each job's changes are serialized by its own gate, so a refresh never
/// mints after a stop has collected the jtis to revoke.
/// </summary>
internal sealed partial class JobManager
{
    private const int RefreshParallelism = 8;

    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private readonly IJobRuntime _runtime;
    private readonly IJobCredentials _credentials;
    private readonly RevocationLedger _ledger;
    private readonly JobsManagerOptions _options;
    private readonly TimeProvider _time;
    private readonly JobsManagerMetrics _metrics;
    private readonly ILogger<JobManager> _logger;

    public JobManager(IJobRuntime runtime, IJobCredentials credentials, RevocationLedger ledger, JobsManagerOptions options,
        TimeProvider time, JobsManagerMetrics metrics, ILogger<JobManager> logger)
    {
        _runtime = runtime;
        _credentials = credentials;
        _ledger = ledger;
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        metrics.ObserveLiveJobs(() => _jobs.Count);
    }

    public bool IsReady => _credentials.IsReady;

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
    /// is still deleted from the runtime (it may predate a restart) and reported as not known.
    /// </summary>
    public async Task<JobResult<StopOutcome>> StopAsync(string name, CancellationToken cancellationToken)
    {
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

        await job.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (job.Removed)
            {
                return JobResult<StopOutcome>.Ok(new StopOutcome(name, Known: true, Revoked: 0));
            }

            job.Stopping = true;
            job.ForgetExpired(_time.GetUtcNow(), _options.Leeway);
            int revoked;
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

            try
            {
                await _runtime.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Revoked but still there: stays Stopping (no refresh); a repeated DELETE finishes the job.
                Log.StopFailed(_logger, name, e);
                return JobResult<StopOutcome>.Fail(JobError.Backend, $"revoked the tokens of '{name}' but could not delete it: {e.Message}");
            }

            job.Removed = true;
            _jobs.TryRemove(new KeyValuePair<string, JobRecord>(name, job));
            _metrics.JobStopped();
            Log.Stopped(_logger, name, revoked);
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

    public Task<int> PruneAsync(CancellationToken cancellationToken) => _ledger.PruneAsync(cancellationToken);

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
        if (job.Stopping || job.Removed || job.State is JobState.Succeeded or JobState.Failed or JobState.Missing or JobState.Stopping)
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
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Started job {Job} with token {Jti} (kid {Kid}, expires {ExpiresAt})")]
        public static partial void Started(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt);

        [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Stopped job {Job}: {Revoked} unexpired tokens revoked, job deleted")]
        public static partial void Stopped(ILogger logger, string job, int revoked);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Re-issued the token of job {Job}: {Jti} (kid {Kid}, expires {ExpiresAt}, reason {Reason})")]
        public static partial void Refreshed(ILogger logger, string job, string jti, string? kid, DateTimeOffset? expiresAt, string reason);

        [LoggerMessage(EventId = 110, Level = LogLevel.Error, Message = "Could not issue a token for job {Job}")]
        public static partial void IssueFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 111, Level = LogLevel.Error, Message = "Could not launch job {Job}")]
        public static partial void LaunchFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 112, Level = LogLevel.Error, Message = "Could not stop job {Job}")]
        public static partial void StopFailed(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 113, Level = LogLevel.Warning, Message = "Could not deliver token {Jti} to job {Job}; it keeps its previous token and the next check retries")]
        public static partial void DeliveryFailed(ILogger logger, string job, string jti, Exception exception);
    }
}
