using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Jobs.Adoption;
using RequestsProxy.JobsManager.Metrics;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The runtime-independent core, as the API and the maintenance loop see it. The work is done by
/// collaborators over one <see cref="JobTable"/> (the only owner of the per-job gates):
/// <see cref="JobStarter"/>, <see cref="JobStopper"/>, <see cref="TokenRefresher"/> and
/// <see cref="JobReconciler"/>, each token reaching a job through <see cref="TokenDelivery"/>
/// (lease → ledger → delivery), so a restart forgets nothing and a refresh never mints after a
/// stop has collected the jtis to revoke.
/// </summary>
internal sealed class JobManager
{
    private readonly JobTable _table = new();
    private readonly IJobCredentials _credentials;
    private readonly RevocationLedger _ledger;
    private readonly JobLedger _jobLedger;
    private readonly JobsManagerOptions _options;
    private readonly TimeProvider _time;
    private readonly JobStarter _starter;
    private readonly JobStopper _stopper;
    private readonly TokenRefresher _refresher;
    private readonly JobReconciler _reconciler;
    private readonly JobAdopter? _adopter;

    public JobManager(IJobRuntime runtime, IJobCredentials credentials, RevocationLedger ledger, JobLedger jobLedger, JobsManagerOptions options,
        TimeProvider time, JobsManagerMetrics metrics, JobAudit audit, ILogger<JobManager> logger,
        AdoptionCache? adoptionCache = null, IAdoptionDelivery? adoptionDelivery = null)
    {
        _credentials = credentials;
        _ledger = ledger;
        _jobLedger = jobLedger;
        _options = options;
        _time = time;
        if (adoptionCache is not null && adoptionDelivery is not null)
        {
            // Adopt mode: every collaborator reaches an adopted job's Secret and state through the same runtime calls.
            runtime = new AdoptionAwareRuntime(runtime, _table, adoptionCache, adoptionDelivery, time);
        }

        var delivery = new TokenDelivery(credentials, jobLedger, options, time, metrics, audit);
        _stopper = new JobStopper(_table, runtime, credentials, jobLedger, options, time, metrics, audit, logger);
        _starter = new JobStarter(_table, runtime, credentials, delivery, _stopper, jobLedger, time, metrics, logger);
        _refresher = new TokenRefresher(_table, runtime, credentials, delivery, time, metrics, logger);
        // A ledger entry without a namespace was written before job namespaces existed: its job ran in the release namespace.
        _reconciler = new JobReconciler(_table, runtime, jobLedger, _stopper, time, logger, options.Runtime == JobRuntimeKind.Kubernetes ? options.Namespace : null);
        metrics.ObserveOutOfScopeJobs(() => (
            _table.Jobs.Count(j => j is { OutOfScope: true, Removed: false } && j.State != JobState.Unreachable),
            _table.Jobs.Count(j => j is { OutOfScope: true, Removed: false, State: JobState.Unreachable })));
        if (adoptionCache is not null && adoptionDelivery is not null)
        {
            _adopter = new JobAdopter(_table, adoptionCache, adoptionDelivery, runtime, credentials, delivery, _stopper, jobLedger, options, time, metrics, audit, logger);
        }
        metrics.ObserveLiveJobs(() => _table.Count);
        // Without the ring's kids: the gauge shows the kids tokens carry (the API adds the ring's unused ones).
        metrics.ObserveKeyUsage(() => KeyUsage([]));
    }

    /// <summary>Tokens can be issued and the job table has been rebuilt from the ledger.</summary>
    public bool IsReady => _credentials.IsReady && _table.IsRestored;

    /// <summary>True once the job table has been rebuilt from the ledger; until then start and stop answer 503.</summary>
    public bool IsRestored => _table.IsRestored;

    /// <summary>Why the ledger has not been restored yet (null once it has).</summary>
    public string? RestoreProblem => _table.RestoreProblem;

    public int Count => _table.Count;

    /// <summary>The job table (tests hold a job's gate through it).</summary>
    public JobTable Table => _table;

    /// <summary>Every job of the table, and (adopt mode) every labelled Job refused a token, oldest first.</summary>
    public IReadOnlyList<JobView> List() =>
        [.. _table.Jobs.Select(View).Concat(_adopter?.Refusals ?? []).OrderBy(j => j.CreatedAt).ThenBy(j => j.Name, StringComparer.Ordinal)];

    /// <summary>The job of that name, or else a labelled Job of that name refused a token.</summary>
    public JobView? Get(string name) =>
        _table.TryGet(name, out var job) ? View(job) : _adopter?.Refusals.FirstOrDefault(r => r.Name == name);

    /// <summary>An adopted job whose manifest changed to break a rule keeps its record (tokens revoked): the reason is its problem.</summary>
    private JobView View(JobRecord job) =>
        job.ToView() is var view && job.Spec.Adopted is { } adopted && _adopter?.RefusalOf(adopted) is { } why ? view with { Problem = why } : view;

    /// <summary>
    /// Starts a job. On Kubernetes its namespace is recorded explicitly (the default job namespace when the
    /// spec names none), so the ledger never holds a namespace-less entry but those of the release-namespace layout.
    /// </summary>
    public Task<JobResult<JobView>> StartAsync(JobSpec spec, CancellationToken cancellationToken) =>
        _starter.StartAsync(_options.Runtime == JobRuntimeKind.Kubernetes && spec.Namespace is null ? spec with { Namespace = _options.DefaultJobNamespace } : spec, cancellationToken);

    /// <inheritdoc cref="JobStopper.StopAsync"/>
    public Task<JobResult<StopOutcome>> StopAsync(string name, CancellationToken cancellationToken) => _stopper.StopAsync(name, cancellationToken);

    /// <inheritdoc cref="JobReconciler.RestoreAsync"/>
    public Task<bool> RestoreAsync(CancellationToken cancellationToken) => _reconciler.RestoreAsync(cancellationToken);

    /// <inheritdoc cref="JobStopper.RevokeFinishedAsync"/>
    public Task<int> RevokeFinishedAsync(CancellationToken cancellationToken) => _stopper.RevokeFinishedAsync(cancellationToken);

    /// <inheritdoc cref="TokenRefresher.RefreshAsync"/>
    public Task<int> RefreshAsync(CancellationToken cancellationToken) => _refresher.RefreshAsync(cancellationToken);

    /// <inheritdoc cref="JobAdopter.ObserveAsync"/>
    public Task ObserveAdoptedAsync(ObservedJob job, CancellationToken cancellationToken) =>
        _adopter?.ObserveAsync(job, cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc cref="JobAdopter.GoneAsync"/>
    public Task AdoptedGoneAsync(AdoptedJob job, CancellationToken cancellationToken) =>
        _adopter?.GoneAsync(job, cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc cref="JobAdopter.ReconcileAsync"/>
    public Task ReconcileAdoptedAsync(CancellationToken cancellationToken) =>
        _adopter?.ReconcileAsync(cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc cref="JobReconciler.SyncStatesAsync"/>
    public Task SyncStatesAsync(CancellationToken cancellationToken) => _reconciler.SyncStatesAsync(cancellationToken);

    /// <summary>
    /// Ends the legacy token list entries of jobs that no longer hold a legacy token (converted,
    /// finished, gone) after the grace, and drops ended ones (DESIGN §12). A job still starting
    /// (no token delivered yet) keeps its entry, and so does one whose JWT's delivery is unconfirmed
    /// while it held a legacy token (it may still hold that one).
    /// </summary>
    public Task<int> ConvergeLegacyTokensAsync(CancellationToken cancellationToken) =>
        _table.IsRestored
            ? _credentials.ConvergeAsync(sub => _table.TryGet(sub, out var job) && !job.Removed && MayHoldLegacyToken(job), cancellationToken)
            : Task.FromResult(0);

    private static bool MayHoldLegacyToken(JobRecord job) =>
        job.Current is null or { Kid: null, ExpiresAt: null } || (job.DeliveryUnconfirmed && job.History.Any(t => t.Kid is null));

    /// <summary>
    /// Prunes the revocation list and the job ledger (both by exp + leeway), and drops unreachable jobs whose
    /// every token has expired (<see cref="JobStopper.ForgetSpentUnreachableAsync"/>); returns the revocation entries dropped.
    /// </summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var removed = await _ledger.PruneAsync(cancellationToken).ConfigureAwait(false);
        if (_table.IsRestored)
        {
            await _stopper.ForgetSpentUnreachableAsync(cancellationToken).ConfigureAwait(false);
        }

        await _jobLedger.PruneAsync(cancellationToken).ConfigureAwait(false);
        return removed;
    }

    /// <summary>Live tokens per kid, including every kid of the ring (zero when unused).</summary>
    public KeyUsage KeyUsage(IEnumerable<string> ringKids) =>
        KeyUsageReport.Build(_table.Jobs, ringKids, _credentials.ActiveKid, _time.GetUtcNow(), _options.Leeway, _ledger.Latest);
}
