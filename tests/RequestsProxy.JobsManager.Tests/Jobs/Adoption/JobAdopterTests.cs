using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Jobs.Adoption;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Jobs.Adoption;

/// <summary>
/// Adopt mode's core on the fake clock, for what a real cluster cannot show on demand: restarts at
/// chosen moments, a Job replaced under the same name, a name clash with an API job, a taken Secret
/// name, a watch that has not listed yet. (Labelled Jobs from kubectl on the real API server:
/// tests/RequestsProxy.Cluster.Tests, TrainingWorkloadTests.)
/// </summary>
public sealed class JobAdopterTests : IDisposable
{
    private const string Ns = "train";

    private readonly CoreHarness _h = new();
    private readonly InMemoryAdoptionDelivery _secrets = new();
    private readonly InMemoryRevocationStore _revoked;
    private readonly InMemoryJobLedgerStore _ledger = new();
    private AdoptionCache _cache = new([Ns]);
    private readonly FakeLogCollector _auditLog = new();
    private readonly JobAudit _audit;

    public JobAdopterTests()
    {
        _revoked = (InMemoryRevocationStore)_h.Store;
        _audit = new JobAudit(new LoggerFactory([new FakeLoggerProvider(_auditLog)]));
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Observe_NewRunningLabelledJob_OneTokenInTheLedgerThenItsSecret()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");

        await SeeAsync(manager, job, JobState.Pending);

        var (adopted, jti, first) = Assert.Single(_secrets.Deliveries);
        Assert.Equal((job, true), (adopted, first));
        var view = manager.Get("train-1")!;
        Assert.True(view.Adopted);
        Assert.Equal(jti, view.Token!.Jti);
        var entry = _ledger.Document.Find("train-1")!;
        Assert.Equal(job, entry.Adopted);
        Assert.Equal(jti, entry.CurrentJti);
        var claims = new TokenValidator(_h.KeySource, StaticRevocationSource.None, new TokenValidationOptions(), _h.Time).Validate(_secrets.Secrets[job].Token);
        Assert.True(claims.IsValid, claims.Reason);
        Assert.Equal("train-1", claims.Claims!.Subject);
    }

    [Fact]
    public async Task Observe_ManifestBreaksARule_NoTokenReasonLoggedAuditedWarnedAndListedOnce()
    {
        using var meters = new TestMeterFactory();
        using var adopted = new MetricCollector<long>(meters, JobsManagerMetrics.MeterName, "jobs_manager.jobs.adopted");
        var manager = await StartManagerAsync(meters);
        var job = Job("evil");
        string[] problems = ["'spec.template.spec.containers[0].securityContext.privileged' must not be true"];

        await SeeAsync(manager, job, JobState.Pending, problems);
        await SeeAsync(manager, job, JobState.Running, problems);
        await manager.ReconcileAdoptedAsync(CancellationToken.None);

        Assert.Empty(_secrets.Deliveries);
        Assert.Null(_ledger.Document.Find("evil"));
        var view = manager.Get("evil")!;
        Assert.Equal((JobState.Refused, true, Ns, null, 0), (view.State, view.Adopted, view.Namespace, view.Token, view.TokensIssued));
        Assert.Contains(problems[0], view.Problem, StringComparison.Ordinal);
        Assert.Equal(view, Assert.Single(manager.List()));
        var warning = Assert.Single(_secrets.Warnings);
        Assert.Equal((job, JobAdopter.RefusedEventReason), (warning.Job, warning.Reason));
        Assert.Contains(problems[0], warning.Message, StringComparison.Ordinal);
        var audit = Assert.Single(_auditLog.GetSnapshot());
        Assert.Equal(904, audit.Id.Id);
        Assert.Contains("Job train/evil gets no token", audit.Message, StringComparison.Ordinal);
        Assert.Equal("invalid", Assert.Single(adopted.GetMeasurementSnapshot()).Tags["result"]);

        // Gone from the cluster: gone from the list.
        _cache.Remove(job);
        await manager.ReconcileAdoptedAsync(CancellationToken.None);
        Assert.Null(manager.Get("evil"));
        Assert.Empty(manager.List());
    }

    [Fact]
    public async Task Observe_AdoptedJobChangedToBreakARule_TokensRevokedJobNotDeletedReasonListed()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");
        await SeeAsync(manager, job, JobState.Running);
        var jti = manager.Get("train-1")!.Token!.Jti;

        // A suspended Job's template labels and annotations may change (Kubernetes 1.27+): now it asks for an unconfined AppArmor profile.
        await SeeAsync(manager, job, JobState.Running, ["'spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/t' must not be \"unconfined\""]);
        _h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(0, await manager.RefreshAsync(CancellationToken.None));

        Assert.True(_revoked.List.Contains(jti));
        Assert.Empty(_secrets.Deleted);
        var view = manager.Get("train-1")!;
        Assert.True(view.TokensRevoked);
        Assert.Contains("unconfined", view.Problem, StringComparison.Ordinal);
        Assert.True(_ledger.Document.Find("train-1")!.TokensRevoked);
        Assert.Single(_secrets.Warnings);
    }

    [Fact]
    public async Task Observe_AgainAndAgain_NoSecondToken()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");

        await SeeAsync(manager, job, JobState.Pending);
        await SeeAsync(manager, job, JobState.Running);
        await manager.ReconcileAdoptedAsync(CancellationToken.None);

        Assert.Single(_secrets.Deliveries);
        Assert.Equal(JobState.Running, manager.Get("train-1")!.State);
    }

    [Fact]
    public async Task Restart_AdoptedJobStillThere_RestoredWithItsTokenNoneMinted()
    {
        var first = await StartManagerAsync();
        var job = Job("train-1");
        await SeeAsync(first, job, JobState.Running);
        var jti = first.Get("train-1")!.Token!.Jti;

        // A new process: a new cache filled by the watch's first list, then the restore.
        _cache = new AdoptionCache([Ns]);
        _cache.Replace(Ns, [new ObservedJob(job, JobState.Running)]);
        var restarted = await StartManagerAsync();
        await restarted.ReconcileAdoptedAsync(CancellationToken.None);
        await restarted.RefreshAsync(CancellationToken.None);

        var view = restarted.Get("train-1")!;
        Assert.Equal((jti, 1, true), (view.Token!.Jti, view.TokensIssued, view.Adopted));
        Assert.Single(_secrets.Deliveries);
        Assert.Equal(0, _revoked.List.Count);
    }

    [Fact]
    public async Task Restart_AdoptedJobDeletedMeanwhile_TokensRevokedAndForgotten()
    {
        var first = await StartManagerAsync();
        await SeeAsync(first, Job("train-1"), JobState.Running);
        var jti = first.Get("train-1")!.Token!.Jti;

        _cache = new AdoptionCache([Ns]);
        _cache.Replace(Ns, []);
        var restarted = await StartManagerAsync();

        Assert.True(_revoked.List.Contains(jti));
        Assert.Null(restarted.Get("train-1"));
        Assert.Null(_ledger.Document.Find("train-1"));
        Assert.Empty(_secrets.Deleted);
    }

    [Fact]
    public async Task Restart_TokenInLedgerNeverDelivered_NewTokenDeliveredOnTheFirstPass()
    {
        // The process stopped between the ledger write and the Secret's creation: the ledger names no current token.
        var job = Job("train-1");
        var ledger = new JobLedger(_ledger, _h.Options, _h.Time, _h.Metrics, NullLogger<JobLedger>.Instance);
        var undelivered = new JobLedgerEntry("train-1", _h.Time.GetUtcNow(), null, [], [], TokenDefaults.Scope, 1, null, false,
            [new JobLedgerToken("lost-jti", "v1", "train-1", _h.Time.GetUtcNow().ToUnixTimeSeconds(), (_h.Time.GetUtcNow() + TimeSpan.FromHours(1)).ToUnixTimeSeconds())], Adopted: job);
        await ledger.SaveAsync(undelivered, CancellationToken.None);
        _cache.Replace(Ns, [new ObservedJob(job, JobState.Pending)]);

        var manager = await StartManagerAsync();
        await manager.ReconcileAdoptedAsync(CancellationToken.None);
        await manager.RefreshAsync(CancellationToken.None);

        var (delivered, jti, first) = Assert.Single(_secrets.Deliveries);
        Assert.Equal(job, delivered);
        Assert.NotEqual("lost-jti", jti);
        Assert.False(first);
        Assert.Equal(jti, manager.Get("train-1")!.Token!.Jti);
    }

    [Fact]
    public async Task Observe_JobFinished_TokensRevokedAtOnceAndListedUntilDeleted()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");
        await SeeAsync(manager, job, JobState.Running);
        var jti = manager.Get("train-1")!.Token!.Jti;

        await SeeAsync(manager, job, JobState.Succeeded);

        Assert.True(_revoked.List.Contains(jti));
        var view = manager.Get("train-1")!;
        Assert.Equal((JobState.Succeeded, true), (view.State, view.TokensRevoked));

        _cache.Remove(job);
        await manager.AdoptedGoneAsync(job, CancellationToken.None);
        Assert.Null(manager.Get("train-1"));
        Assert.Equal(1, _revoked.List.Count);
    }

    [Fact]
    public async Task Observe_JobBeingDeleted_RevokedAndForgottenWithoutADelete()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");
        await SeeAsync(manager, job, JobState.Running);
        var jti = manager.Get("train-1")!.Token!.Jti;

        await SeeAsync(manager, job, JobState.Stopping);

        Assert.True(_revoked.List.Contains(jti));
        Assert.Null(manager.Get("train-1"));
        Assert.Empty(_secrets.Deleted);
    }

    [Fact]
    public async Task Observe_FinishedJobNeverAdopted_GetsNoToken()
    {
        var manager = await StartManagerAsync();

        await SeeAsync(manager, Job("done-1"), JobState.Succeeded);
        await SeeAsync(manager, Job("going-1"), JobState.Stopping);

        Assert.Empty(_secrets.Deliveries);
        Assert.Empty(manager.List());
    }

    [Fact]
    public async Task Observe_SameNameNewUid_OldTokensRevokedNewJobAdopted()
    {
        var manager = await StartManagerAsync();
        var old = Job("train-1");
        await SeeAsync(manager, old, JobState.Running);
        var oldJti = manager.Get("train-1")!.Token!.Jti;

        var replacement = old with { Uid = "uid-2" };
        await SeeAsync(manager, replacement, JobState.Pending);

        Assert.True(_revoked.List.Contains(oldJti));
        var view = manager.Get("train-1")!;
        Assert.NotEqual(oldJti, view.Token!.Jti);
        Assert.Equal(replacement, _ledger.Document.Find("train-1")!.Adopted);
        Assert.Equal(replacement, _secrets.Deliveries.Last().Job);
    }

    [Fact]
    public async Task Observe_NameOfAnApiJob_RefusedNoToken()
    {
        var manager = await StartManagerAsync();
        var api = await manager.StartAsync(CoreHarness.Spec("train-1"), CancellationToken.None);
        Assert.True(api.Succeeded, api.Message);

        await SeeAsync(manager, Job("train-1"), JobState.Running);
        await SeeAsync(manager, Job("train-1", "other-ns"), JobState.Running);

        Assert.Empty(_secrets.Deliveries);
        Assert.False(manager.Get("train-1")!.Adopted);
    }

    [Fact]
    public async Task Observe_SecretNameTaken_NothingRevokedRetriedAfterTheBackoff()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");
        _secrets.Taken[(Ns, "train-1")] = true;

        await SeeAsync(manager, job, JobState.Pending);
        Assert.Null(manager.Get("train-1"));
        Assert.Null(_ledger.Document.Find("train-1"));
        Assert.Equal(0, _revoked.List.Count);

        // Within the backoff a pass does not try again; after it (the leftover collected), the Job is adopted.
        await manager.ReconcileAdoptedAsync(CancellationToken.None);
        Assert.Null(manager.Get("train-1"));
        _secrets.Taken.Clear();
        _h.Time.Advance(TimeSpan.FromSeconds(6));
        await manager.ReconcileAdoptedAsync(CancellationToken.None);

        Assert.True(manager.Get("train-1")!.Adopted);
        Assert.Single(_secrets.Deliveries);
        Assert.Equal(0, _revoked.List.Count);
    }

    [Fact]
    public async Task Refresh_AdoptedJob_NewTokenPatchedIntoItsSecret()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");
        await SeeAsync(manager, job, JobState.Running);

        _h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await manager.RefreshAsync(CancellationToken.None));

        var refresh = _secrets.Deliveries.Last();
        Assert.Equal((job, false), (refresh.Job, refresh.First));
        Assert.Equal(refresh.Jti, manager.Get("train-1")!.Token!.Jti);
    }

    [Fact]
    public async Task Stop_AdoptedJobThroughTheApi_RevokedThenThatJobDeleted()
    {
        var manager = await StartManagerAsync();
        var job = Job("train-1");
        await SeeAsync(manager, job, JobState.Running);
        var jti = manager.Get("train-1")!.Token!.Jti;

        var stopped = await manager.StopAsync("train-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.True(_revoked.List.Contains(jti));
        Assert.Equal(job, Assert.Single(_secrets.Deleted));
        Assert.Empty(((InMemoryJobRuntime)_h.Runtime).Deleted);
    }

    [Fact]
    public async Task Restore_WatchNotListedYet_NotReadyAndNothingRevoked()
    {
        var first = await StartManagerAsync();
        await SeeAsync(first, Job("train-1"), JobState.Running);

        _cache = new AdoptionCache([Ns]);
        var restarted = NewManager();
        var restore = restarted.RestoreAsync(CancellationToken.None);
        _h.Time.Advance(TimeSpan.FromSeconds(31));

        Assert.False(await restore);
        Assert.Contains(Ns, restarted.RestoreProblem, StringComparison.Ordinal);
        Assert.Equal(0, _revoked.List.Count);
        Assert.Equal(JobError.NotReady, (await restarted.StopAsync("train-1", CancellationToken.None)).Error);
    }

    [Fact]
    public async Task Sync_JobWithOurLabelsUnderAnAdoptedJobsName_LendsItNoState()
    {
        // Someone able to create Jobs with the jobs-manager's labels creates a finished one under an adopted job's name:
        // before uids were matched, the runtime's labelled list won and the adopted job was taken for finished (revoked).
        var manager = await StartManagerAsync();
        await SeeAsync(manager, Job("train-1"), JobState.Running);
        ((InMemoryJobRuntime)_h.Runtime).States["train-1"] = JobState.Succeeded;

        await manager.SyncStatesAsync(CancellationToken.None);
        await manager.RevokeFinishedAsync(CancellationToken.None);

        var view = manager.Get("train-1")!;
        Assert.Equal((JobState.Running, false), (view.State, view.TokensRevoked));
        Assert.Equal(0, _revoked.List.Count);
    }

    private static AdoptedJob Job(string name, string ns = Ns) => new(ns, name, $"uid-of-{name}");

    private async Task SeeAsync(JobManager manager, AdoptedJob job, JobState state, IReadOnlyList<string>? problems = null)
    {
        var observed = new ObservedJob(job, state, problems);
        _cache.Upsert(observed);
        await manager.ObserveAdoptedAsync(observed, CancellationToken.None);
    }

    private async Task<JobManager> StartManagerAsync(TestMeterFactory? meters = null)
    {
        if (!_cache.IsSynced && _cache.Snapshot().Count == 0)
        {
            _cache.Replace(Ns, []);
        }

        var manager = NewManager(meters);
        Assert.True(await manager.RestoreAsync(CancellationToken.None), manager.RestoreProblem);
        return manager;
    }

    private JobManager NewManager(TestMeterFactory? meters = null)
    {
        var metrics = new JobsManagerMetrics(meters ?? _h.MeterFactory);
        var ledger = new JobLedger(_ledger, _h.Options, _h.Time, metrics, NullLogger<JobLedger>.Instance);
        return new JobManager(_h.Runtime, _h.Credentials, _h.Ledger, ledger, _h.Options, _h.Time, metrics, _audit, NullLogger<JobManager>.Instance, _cache, _secrets);
    }
}
