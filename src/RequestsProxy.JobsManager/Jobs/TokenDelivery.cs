using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The one path by which a token reaches a job, for every caller (start, refresh, adopt): under
/// the job's lease, issue → record in the job → write to the durable ledger → deliver → mark
/// delivered → record which token the job holds. A token that could reach a job is therefore always
/// in the ledger (a restart can revoke it), and nothing is delivered without the gate.
/// </summary>
internal sealed class TokenDelivery(IJobCredentials credentials, JobLedger jobLedger, JobsManagerOptions options, TimeProvider time, JobsManagerMetrics metrics,
    JobAudit audit)
{
    /// <param name="reason">The metric's reason tag (start, refresh, rotation).</param>
    /// <param name="deliver">Hands the credential to the job (a launch, a Secret patch, a file write).</param>
    public async Task<TokenDeliveryResult<T>> IssueAndDeliverAsync<T>(JobRecord.Lease lease, string reason,
        Func<JobCredential, CancellationToken, Task<T>> deliver, CancellationToken cancellationToken)
    {
        var job = lease.Job;
        JobCredential credential;
        try
        {
            credential = await credentials.IssueAsync(job.Name, job.Spec.Scope, job.Current, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new TokenDeliveryResult<T>(TokenDeliveryStage.Issue, default, null, e);
        }

        lease.ForgetExpired(time.GetUtcNow(), options.Leeway);
        lease.ForgetReplacedLegacyTokens(time.GetUtcNow(), (2 * options.LegacyTokenGrace) + options.Leeway);
        lease.Record(credential.Facts);
        metrics.TokenIssued(reason);
        try
        {
            // Before the token leaves this process: a token that exists is always in the ledger.
            await jobLedger.SaveAsync(job.ToLedgerEntry(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never delivered: take it back (an entry that did land is reconciled at the next start-up).
            lease.Unrecord(credential.Facts);
            return new TokenDeliveryResult<T>(TokenDeliveryStage.Ledger, default, credential, e);
        }

        T value;
        try
        {
            value = await deliver(credential, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Cancellation too: the token may have been written before it; the caller decides what to revoke.
            return new TokenDeliveryResult<T>(TokenDeliveryStage.Delivery, default, credential, e);
        }

        var previous = job.Current;
        lease.MarkDelivered(credential.Facts);
        audit.Issued(job.Name, credential.Facts, reason);
        await jobLedger.SaveQuietlyAsync(job, cancellationToken).ConfigureAwait(false);
        await credentials.DeliveredAsync(job.Name, previous, credential.Facts, cancellationToken).ConfigureAwait(false);
        return new TokenDeliveryResult<T>(TokenDeliveryStage.Delivered, value, credential, null);
    }
}
