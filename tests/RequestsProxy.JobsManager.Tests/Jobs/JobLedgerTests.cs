using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Jobs;

/// <summary>The durable job ledger through the core: written before delivery, restored and reconciled after a restart.</summary>
public sealed class JobLedgerTests
{
    [Fact]
    public async Task StartAndRefresh_EveryToken_InTheLedgerBeforeItIsDelivered()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var ledger = (InMemoryJobLedgerStore)h.LedgerStore;
        var delivered = 0;
        runtime.BeforeDelivery = (name, credential) =>
        {
            Assert.Contains(credential.Facts.Jti, ledger.Document.Find(name)!.Tokens.Select(t => t.Jti));
            delivered++;
        };

        await h.StartAsync("job-1");
        h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));

        Assert.Equal(2, delivered);
        var entry = ledger.Document.Find("job-1")!;
        Assert.Equal(h.Manager.Get("job-1")!.Token!.Jti, entry.CurrentJti);
        Assert.Equal(2, entry.Tokens.Count);
    }

    [Fact]
    public async Task Start_LedgerUnavailable_BackendErrorAndNothingDelivered()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        ((InMemoryJobLedgerStore)h.LedgerStore).Fail = true;

        var result = await h.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(JobError.Backend, result.Error);
        Assert.Contains("job ledger", result.Message, StringComparison.Ordinal);
        Assert.Empty(runtime.Tokens);
        Assert.Empty(h.Manager.List());
    }

    [Fact]
    public async Task Refresh_LedgerUnavailable_NewTokenNeverDeliveredAndRetriedLater()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var ledger = (InMemoryJobLedgerStore)h.LedgerStore;
        var first = await h.StartAsync("job-1");
        h.Time.Advance(TimeSpan.FromMinutes(31));
        ledger.Fail = true;

        Assert.Equal(0, await h.Manager.RefreshAsync(CancellationToken.None));
        Assert.Equal(first.Token!.Jti, runtime.Tokens["job-1"].Facts.Jti);
        Assert.Equal(1, h.Manager.Get("job-1")!.TokensIssued);

        ledger.Fail = false;
        Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));
        Assert.Contains(runtime.Tokens["job-1"].Facts.Jti, ledger.Document.Find("job-1")!.Tokens.Select(t => t.Jti));
    }

    [Fact]
    public async Task Restart_LiveJobs_ListedRefreshedAndStopRevokesEveryPreRestartJti()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var store = (InMemoryRevocationStore)h.Store;
        var jtis = new List<string> { (await h.StartAsync("job-1")).Token!.Jti };
        await h.StartAsync("job-2");
        h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(2, await h.Manager.RefreshAsync(CancellationToken.None));
        jtis.Add(h.Manager.Get("job-1")!.Token!.Jti);
        var before = h.Manager.Get("job-1")!;

        // The restarted process shares nothing in memory: only the runtime (the cluster) and the stores.
        var restarted = h.NewManager(runtime, store, h.LedgerStore);
        Assert.Equal(JobError.NotReady, (await restarted.StartAsync(CoreHarness.Spec("job-3"), CancellationToken.None)).Error);
        Assert.True(await restarted.RestoreAsync(CancellationToken.None), restarted.RestoreProblem);

        Assert.Equal(["job-1", "job-2"], restarted.List().Select(j => j.Name));
        var after = restarted.Get("job-1")!;
        Assert.Equal((before.Token!.Jti, before.Token.Kid, before.Token.ExpiresAt, before.TokensIssued, before.Scope), (after.Token!.Jti, after.Token.Kid, after.Token.ExpiresAt, after.TokensIssued, after.Scope));
        Assert.Equal(JobState.Running, after.State);

        // Refresh carries on from the restored tokens' lifetimes.
        Assert.Equal(0, await restarted.RefreshAsync(CancellationToken.None));
        h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(2, await restarted.RefreshAsync(CancellationToken.None));
        jtis.Add(runtime.Tokens["job-1"].Facts.Jti);

        var stopped = await restarted.StopAsync("job-1", CancellationToken.None);

        // 62 minutes in: the token of minute 0 has expired (1 h + 30 s leeway), those of minutes 31 and 62 have not.
        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.True(stopped.Value!.Known);
        Assert.Equal(jtis.Skip(1).Order(), store.List.Entries.Select(e => e.Jti).Order());
        Assert.Null(((InMemoryJobLedgerStore)h.LedgerStore).Document.Find("job-1"));
        Assert.Contains("job-1", runtime.Deleted);
    }

    [Fact]
    public async Task Restart_JobGoneFromRuntime_TokensRevokedAndForgotten()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var store = (InMemoryRevocationStore)h.Store;
        var gone = (await h.StartAsync("gone")).Token!.Jti;
        await h.StartAsync("kept");

        // Deleted while no jobs-manager was running.
        runtime.States.TryRemove("gone", out _);
        var restarted = h.NewManager(runtime, store, h.LedgerStore);
        Assert.True(await restarted.RestoreAsync(CancellationToken.None));

        Assert.Equal(["kept"], restarted.List().Select(j => j.Name));
        Assert.Equal([gone], store.List.Entries.Select(e => e.Jti));
        Assert.Equal(["kept"], ((InMemoryJobLedgerStore)h.LedgerStore).Document.Jobs.Select(j => j.Name));
    }

    [Fact]
    public async Task Restore_LedgerUnreadable_StartAndStopNotReadyUntilItIs()
    {
        using var h = new CoreHarness();
        var ledger = new FailingReadLedgerStore();
        var manager = h.NewManager(h.Runtime, h.Store, ledger);

        Assert.False(await manager.RestoreAsync(CancellationToken.None));

        Assert.False(manager.IsReady);
        Assert.Contains("memory", manager.RestoreProblem, StringComparison.Ordinal);
        Assert.Equal(JobError.NotReady, (await manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None)).Error);
        Assert.Equal(JobError.NotReady, (await manager.StopAsync("job-1", CancellationToken.None)).Error);

        ledger.FailReads = false;
        Assert.True(await manager.RestoreAsync(CancellationToken.None));
        Assert.True(manager.IsReady);
        Assert.Null(manager.RestoreProblem);
    }

    [Fact]
    public async Task Finished_LoopPass_TokensRevokedListedUntilDeleteWhichOnlyDeletes()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var store = (InMemoryRevocationStore)h.Store;
        var done = (await h.StartAsync("done")).Token!.Jti;
        await h.StartAsync("running");
        using var service = new JobMaintenanceService(h.Manager, h.Ledger, h.Options, h.Time, NullLogger<JobMaintenanceService>.Instance, h.KeySource);
        await service.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => service.Passes >= 1, "the first pass");
            runtime.States["done"] = JobState.Succeeded;
            var passes = service.Passes;
            h.Time.Advance(h.Options.RefreshCheckInterval);
            await Eventually.TrueAsync(() => service.Passes > passes, "a pass after the job finished");
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }

        Assert.Equal([done], store.List.Entries.Select(e => e.Jti));
        var view = h.Manager.Get("done")!;
        Assert.Equal((JobState.Succeeded, true), (view.State, view.TokensRevoked));
        Assert.True(((InMemoryJobLedgerStore)h.LedgerStore).Document.Find("done")!.TokensRevoked);
        var v1 = h.Manager.KeyUsage(h.KeySource.Current!.Kids).Keys.Single();
        Assert.Equal((1, 1), (v1.LiveTokens, v1.RevokedTokens));

        // No refresh for it, even past half its lifetime; the running job is refreshed.
        h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));
        Assert.Equal(done, h.Manager.Get("done")!.Token!.Jti);

        var stopped = await h.Manager.StopAsync("done", CancellationToken.None);
        Assert.True(stopped.Succeeded);
        Assert.Equal(0, stopped.Value!.Revoked);
        Assert.Contains("done", runtime.Deleted);
        Assert.Single(store.List.Entries);
    }

    [Fact]
    public async Task Finished_RevocationFails_RetriedOnTheNextPass()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var store = (InMemoryRevocationStore)h.Store;
        var jti = (await h.StartAsync("job-1")).Token!.Jti;
        runtime.States["job-1"] = JobState.Failed;
        await h.Manager.SyncStatesAsync(CancellationToken.None);
        store.Fail = true;

        Assert.Equal(0, await h.Manager.RevokeFinishedAsync(CancellationToken.None));
        Assert.False(h.Manager.Get("job-1")!.TokensRevoked);

        store.Fail = false;
        Assert.Equal(1, await h.Manager.RevokeFinishedAsync(CancellationToken.None));
        Assert.Equal([jti], store.List.Entries.Select(e => e.Jti));
        Assert.Equal(0, await h.Manager.RevokeFinishedAsync(CancellationToken.None));
    }
}
