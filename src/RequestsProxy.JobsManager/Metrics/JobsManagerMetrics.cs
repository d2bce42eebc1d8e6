using System.Diagnostics.Metrics;

namespace RequestsProxy.JobsManager.Metrics;

/// <summary>
/// The jobs-manager's instruments, from <see cref="IMeterFactory"/>. Tags stay low-cardinality:
/// a reason or a kid, never a job name or a jti.
/// </summary>
internal sealed class JobsManagerMetrics
{
    public const string MeterName = "RequestsProxy.JobsManager";

    private readonly Counter<long> _jobsStarted;
    private readonly Counter<long> _jobsStopped;
    private readonly Counter<long> _tokensMinted;
    private readonly Counter<long> _revocationUpdates;
    private readonly Counter<long> _revocationConflicts;
    private readonly Counter<long> _revocationEntriesAdded;
    private readonly Counter<long> _revocationEntriesPruned;
    private readonly Counter<long> _jobsFinished;
    private readonly Counter<long> _jobsAdopted;
    private readonly Counter<long> _ledgerUpdates;
    private readonly Counter<long> _ledgerConflicts;
    private long _deliveryFailures;
    private long _ledgerSizeBytes;
    private long _ledgerJobs;
    private long _revocationSizeBytes;
    private long _revocationEntries;
    private long _revocationLimitBytes = Jobs.DocumentLimits.ConfigMapBytes;
    private long _legacyTokensSizeBytes;
    private long _legacyTokensEntries;
    private Func<int> _liveJobs = () => 0;
    private Func<(int Reachable, int Unreachable)> _outOfScopeJobs = () => (0, 0);
    private Tokens.Keys.KeyRingSource? _keyRing;
    private Func<Jobs.KeyUsage>? _keyUsage;
    private long _ledgerEntriesDropped;

    public JobsManagerMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _jobsStarted = meter.CreateCounter<long>("jobs_manager.jobs.started", "{job}", "Jobs started.");
        _jobsStopped = meter.CreateCounter<long>("jobs_manager.jobs.stopped", "{job}", "Jobs stopped (tokens revoked, job deleted).");
        _tokensMinted = meter.CreateCounter<long>("jobs_manager.tokens.issued", "{token}", "Tokens issued, by reason: start, refresh (half the lifetime left) or rotation (the active kid changed).");
        // Observed, so the series exists at 0 from the first scrape and the chart's increase() alert sees the very first failure.
        meter.CreateObservableCounter("jobs_manager.tokens.delivery_failures", () => Interlocked.Read(ref _deliveryFailures), "{token}", "Refreshed tokens that could not be delivered (retried on the next check).");
        _revocationUpdates = meter.CreateCounter<long>("jobs_manager.revocation.updates", "{update}", "Revocation list writes, by result.");
        _revocationConflicts = meter.CreateCounter<long>("jobs_manager.revocation.conflicts", "{conflict}", "Optimistic-concurrency conflicts (HTTP 409) retried while writing the revocation list.");
        _revocationEntriesAdded = meter.CreateCounter<long>("jobs_manager.revocation.entries_added", "{entry}", "jtis appended to the revocation list.");
        _revocationEntriesPruned = meter.CreateCounter<long>("jobs_manager.revocation.entries_pruned", "{entry}", "Entries dropped after exp + leeway passed.");
        meter.CreateObservableGauge("jobs_manager.revocation.list.size", () => Interlocked.Read(ref _revocationSizeBytes), "By", "Serialized size of the revocation list, all shards together (each ConfigMap holds at most 1 MiB).");
        meter.CreateObservableGauge("jobs_manager.revocation.list.entries", () => Interlocked.Read(ref _revocationEntries), "{entry}", "Entries in the revocation list.");
        meter.CreateObservableGauge("jobs_manager.revocation.list.limit", () => Interlocked.Read(ref _revocationLimitBytes), "By", "The size the list must stay under: every shard's ConfigMap full.");
        _jobsFinished = meter.CreateCounter<long>("jobs_manager.jobs.finished", "{job}", "Finished (succeeded or failed) jobs whose tokens the maintenance loop revoked.");
        _jobsAdopted = meter.CreateCounter<long>("jobs_manager.jobs.adopted", "{job}",
            "Labelled Jobs created by other tools, by result: adopted (token delivered), refused (the name is another job's), blocked (a Secret of the token's name exists), failed (retried).");
        _ledgerUpdates = meter.CreateCounter<long>("jobs_manager.ledger.updates", "{update}", "Job ledger writes, by result.");
        _ledgerConflicts = meter.CreateCounter<long>("jobs_manager.ledger.conflicts", "{conflict}", "Optimistic-concurrency conflicts (HTTP 409) retried while writing the job ledger.");
        meter.CreateObservableGauge("jobs_manager.legacy_tokens.list.size", () => Interlocked.Read(ref _legacyTokensSizeBytes), "By",
            "Serialized size of the legacy token list (its ConfigMap holds at most 1 MiB: a start that would pass it is refused).");
        meter.CreateObservableGauge("jobs_manager.legacy_tokens.list.entries", () => Interlocked.Read(ref _legacyTokensEntries), "{entry}", "Entries in the legacy token list.");
        meter.CreateObservableGauge("jobs_manager.ledger.size", () => Interlocked.Read(ref _ledgerSizeBytes), "By", "Serialized size of the job ledger (a ConfigMap holds at most 1 MiB).");
        meter.CreateObservableGauge("jobs_manager.ledger.jobs", () => Interlocked.Read(ref _ledgerJobs), "{job}", "Jobs in the job ledger.");
        meter.CreateObservableGauge("jobs_manager.jobs.live", () => _liveJobs(), "{job}", "Jobs the jobs-manager currently manages.");
        meter.CreateObservableGauge("jobs_manager.jobs.out_of_scope", () =>
        {
            var (reachable, unreachable) = _outOfScopeJobs();
            return new[]
            {
                new Measurement<int>(reachable, new KeyValuePair<string, object?>("reachable", "true")),
                new Measurement<int>(unreachable, new KeyValuePair<string, object?>("reachable", "false")),
            };
        }, "{job}", "Jobs recorded in a namespace that is not a job namespace (an upgrade from the release-namespace layout): reachable=false ones are not refreshed and wait for an operator.");

        meter.CreateObservableGauge("jobs_manager.key_usage.tokens", () => _keyUsage?.Invoke().Keys.SelectMany(k => new[]
        {
            new Measurement<int>(k.LiveTokens, new KeyValuePair<string, object?>("kid", k.Kid), new KeyValuePair<string, object?>("state", "live")),
            new Measurement<int>(k.UnreachableTokens, new KeyValuePair<string, object?>("kid", k.Kid), new KeyValuePair<string, object?>("state", "unreachable")),
            new Measurement<int>(k.RevokedTokens, new KeyValuePair<string, object?>("kid", k.Kid), new KeyValuePair<string, object?>("state", "revoked")),
        }) ?? [], "{token}",
            "Unexpired tokens per kid (GET /v1/keys/usage): live ones hold the kid back from retirement (unreachable: those of jobs it may not read, included in live); revoked ones do not.");
        meter.CreateObservableCounter("jobs_manager.ledger.entries_dropped", () => Interlocked.Read(ref _ledgerEntriesDropped), "{job}",
            "Unreachable jobs (outside the job namespaces, not readable) dropped from the job ledger once every token they held had expired.");

        // Stateless mode: a refused key ring update leaves the signer on its last good ring; alert on it.
        meter.CreateObservableGauge("jobs_manager.key_ring.ready", () => _keyRing is { IsReady: true } ? 1 : 0, "{ring}", "1 while a valid key ring is loaded (stateless mode).");
        meter.CreateObservableCounter("jobs_manager.key_ring.reloads", () => _keyRing?.ReloadCount ?? 0, "{reload}", "Loads that changed the key ring.");
        meter.CreateObservableCounter("jobs_manager.key_ring.reload_failures", () => _keyRing?.ReloadFailureCount ?? 0, "{reload}", "Key ring updates refused (the last good ring stayed in force).");
    }

    public void ObserveKeyRing(Tokens.Keys.KeyRingSource keyRing) => _keyRing = keyRing;

    public void ObserveKeyUsage(Func<Jobs.KeyUsage> keyUsage) => _keyUsage = keyUsage;

    public void LedgerEntryDropped() => Interlocked.Increment(ref _ledgerEntriesDropped);

    public long RevocationSizeBytes => Interlocked.Read(ref _revocationSizeBytes);

    public void ObserveLiveJobs(Func<int> liveJobs) => _liveJobs = liveJobs;

    public void ObserveOutOfScopeJobs(Func<(int Reachable, int Unreachable)> outOfScopeJobs) => _outOfScopeJobs = outOfScopeJobs;

    public void JobStarted() => _jobsStarted.Add(1);

    public void JobAdopted(string result) => _jobsAdopted.Add(1, new KeyValuePair<string, object?>("result", result));

    public void JobStopped() => _jobsStopped.Add(1);

    public void TokenIssued(string reason) => _tokensMinted.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void DeliveryFailed() => Interlocked.Increment(ref _deliveryFailures);

    public void RevocationUpdated(string result) => _revocationUpdates.Add(1, new KeyValuePair<string, object?>("result", result));

    public void RevocationConflict() => _revocationConflicts.Add(1);

    public void RevocationEntriesAdded(int count) => _revocationEntriesAdded.Add(count);

    public void RevocationEntriesPruned(int count) => _revocationEntriesPruned.Add(count);

    public long LedgerSizeBytes => Interlocked.Read(ref _ledgerSizeBytes);

    public void JobFinished() => _jobsFinished.Add(1);

    public void LedgerUpdated(string result) => _ledgerUpdates.Add(1, new KeyValuePair<string, object?>("result", result));

    public void LedgerConflict() => _ledgerConflicts.Add(1);

    public void LedgerSize(long bytes, int jobs)
    {
        Interlocked.Exchange(ref _ledgerSizeBytes, bytes);
        Interlocked.Exchange(ref _ledgerJobs, jobs);
    }

    public long LegacyTokensSizeBytes => Interlocked.Read(ref _legacyTokensSizeBytes);

    public void LegacyTokensSize(long bytes, int entries)
    {
        Interlocked.Exchange(ref _legacyTokensSizeBytes, bytes);
        Interlocked.Exchange(ref _legacyTokensEntries, entries);
    }

    public void RevocationSize(long bytes, int entries, long limitBytes)
    {
        Interlocked.Exchange(ref _revocationLimitBytes, limitBytes);
        Interlocked.Exchange(ref _revocationSizeBytes, bytes);
        Interlocked.Exchange(ref _revocationEntries, entries);
    }
}
