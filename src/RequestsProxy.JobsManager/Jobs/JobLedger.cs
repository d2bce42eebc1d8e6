using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Records jobs and their tokens in the durable ledger through the store, so a restarted
/// jobs-manager still knows what to list, refresh and revoke. Every write also drops tokens past
/// exp + leeway, and the ledger's size is exported and warned about from 80 % of 1 MiB, like the
/// revocation list's.
/// </summary>
internal sealed partial class JobLedger(IDocumentStore<JobLedgerDocument> store, JobsManagerOptions options, TimeProvider time, JobsManagerMetrics metrics, ILogger<JobLedger> logger)
{
    public string Location => store.Location;

    public async Task<DocumentSnapshot<JobLedgerDocument>> ReadAsync(CancellationToken cancellationToken)
    {
        var snapshot = await store.ReadAsync(cancellationToken).ConfigureAwait(false);
        Observe(snapshot);
        return snapshot;
    }

    /// <summary>Adds or replaces the job's entry (a token must be in it before it is delivered).</summary>
    public Task<DocumentSnapshot<JobLedgerDocument>> SaveAsync(JobLedgerEntry entry, CancellationToken cancellationToken) =>
        UpdateAsync(document => document.With(entry), cancellationToken);

    /// <summary>Removes a stopped (or vanished) job whose tokens were revoked.</summary>
    public Task<DocumentSnapshot<JobLedgerDocument>> ForgetAsync(string name, CancellationToken cancellationToken) =>
        UpdateAsync(document => document.Without(name), cancellationToken);

    /// <summary>
    /// Records a change that is not a new token (which current token was delivered, revoked flags).
    /// A failure is logged, not fatal: the ledger already holds every token, and the next write of
    /// this job carries the change.
    /// </summary>
    public async Task SaveQuietlyAsync(JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            await SaveAsync(job.ToLedgerEntry(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.WriteDeferred(logger, job.Name, e);
        }
    }

    /// <summary>
    /// Forgets a job whose tokens are revoked. A failure leaves a stale entry that the next
    /// start-up reconciles (the job is gone: its already-revoked jtis are revoked again, harmlessly).
    /// </summary>
    public async Task ForgetQuietlyAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await ForgetAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.WriteDeferred(logger, name, e);
        }
    }

    /// <summary>Drops every token past exp + leeway; returns how many.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var removed = 0;
        await UpdateCoreAsync(document => document.WithoutExpiredTokens(now, options.Leeway, out removed), cancellationToken).ConfigureAwait(false);
        return removed;
    }

    private Task<DocumentSnapshot<JobLedgerDocument>> UpdateAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return UpdateCoreAsync(document => change(document).WithoutExpiredTokens(now, options.Leeway, out _), cancellationToken);
    }

    private async Task<DocumentSnapshot<JobLedgerDocument>> UpdateCoreAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken)
    {
        DocumentSnapshot<JobLedgerDocument> snapshot;
        try
        {
            snapshot = await store.UpdateAsync(change, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.LedgerUpdated("error");
            Log.UpdateFailed(logger, store.Location, e);
            throw;
        }

        metrics.LedgerUpdated("ok");
        Observe(snapshot);
        return snapshot;
    }

    private void Observe(DocumentSnapshot<JobLedgerDocument> snapshot)
    {
        metrics.LedgerSize(snapshot.SizeBytes, snapshot.Document.Jobs.Count);
        if (snapshot.SizeBytes >= DocumentLimits.WarningThresholdBytes)
        {
            Log.NearLimit(logger, snapshot.SizeBytes, DocumentLimits.ConfigMapBytes, snapshot.Document.Jobs.Count, store.Location);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, Level = LogLevel.Warning,
            Message = "The job ledger is {SizeBytes} bytes of the {LimitBytes}-byte ConfigMap limit ({Jobs} jobs) at {Location}; stop finished jobs or shorten the token lifetime")]
        public static partial void NearLimit(ILogger logger, long sizeBytes, long limitBytes, int jobs, string location);

        [LoggerMessage(EventId = 115, Level = LogLevel.Warning, Message = "Could not record a change of job {Job} in the job ledger; the next write of the job carries it")]
        public static partial void WriteDeferred(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 311, Level = LogLevel.Error, Message = "Could not update the job ledger at {Location}")]
        public static partial void UpdateFailed(ILogger logger, string location, Exception exception);
    }
}
