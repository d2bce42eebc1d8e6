using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Jobs;

public sealed class JobManagerTests
{
    [Fact]
    public async Task Start_NewJob_DeliversValidTokenOfActiveKid()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;

        var view = await h.StartAsync("job-1");

        Assert.Equal(JobState.Running, view.State);
        Assert.Equal("v1", view.Token!.Kid);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromHours(1), view.Token.ExpiresAt);
        var claims = Validate(h, runtime.Tokens["job-1"].Token);
        Assert.Equal("job-1", claims.Subject);
        Assert.Equal(view.Token.Jti, claims.Jti);
        Assert.Equal(TokenDefaults.Scope, claims.Scope);
    }

    [Fact]
    public async Task Start_DuplicateName_Conflict()
    {
        using var h = new CoreHarness();
        await h.StartAsync("job-1");

        var second = await h.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(JobError.Conflict, second.Error);
        Assert.Single(h.Manager.List());
    }

    [Fact]
    public async Task Stop_AfterRefreshes_RevokesEveryUnexpiredJtiThenDeletes()
    {
        using var h = new CoreHarness();
        var store = (InMemoryRevocationStore)h.Store;
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var first = await h.StartAsync("job-1");
        var jtis = new List<string> { first.Token!.Jti };
        for (var i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(31));
            Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));
            jtis.Add(h.Manager.Get("job-1")!.Token!.Jti);
        }

        var result = await h.Manager.StopAsync("job-1", CancellationToken.None);

        // 93 minutes in, the tokens of minutes 0 and 31 (1 h lifetime, 30 s leeway) have expired: no entry needed.
        Assert.True(result.Succeeded);
        Assert.Equal(2, result.Value!.Revoked);
        Assert.Equal(jtis.Skip(2).Order(), store.List.Entries.Select(e => e.Jti).Order());
        Assert.All(store.List.Entries, e => Assert.Equal("job-1", e.Sub));
        Assert.Contains("job-1", runtime.Deleted);
        Assert.Empty(h.Manager.List());
    }

    [Fact]
    public async Task Stop_UnknownJob_IsIdempotent()
    {
        using var h = new CoreHarness();
        await h.StartAsync("job-1");
        Assert.True((await h.Manager.StopAsync("job-1", CancellationToken.None)).Succeeded);

        var again = await h.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.True(again.Succeeded);
        Assert.False(again.Value!.Known);
        Assert.Equal(0, again.Value.Revoked);
    }

    [Fact]
    public async Task Stop_RevocationStoreFails_JobKeepsRunningAndIsNotDeleted()
    {
        using var h = new CoreHarness();
        var store = (InMemoryRevocationStore)h.Store;
        var runtime = (InMemoryJobRuntime)h.Runtime;
        await h.StartAsync("job-1");
        store.Fail = true;

        var result = await h.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.Equal(JobError.Backend, result.Error);
        Assert.Empty(runtime.Deleted);
        Assert.Equal(JobState.Running, h.Manager.Get("job-1")!.State);
        store.Fail = false;
        Assert.True((await h.Manager.StopAsync("job-1", CancellationToken.None)).Succeeded);
        Assert.Single(store.List.Entries);
    }

    [Fact]
    public async Task Refresh_JobRunningThreeLifetimes_AlwaysHoldsUnexpiredToken()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        await h.StartAsync("job-1");
        var lifetime = h.Options.TokenLifetime;
        var end = h.Time.GetUtcNow() + 3 * lifetime;
        var distinct = new HashSet<string>();

        // Every check interval, as the maintenance loop does; in between, the token must stay valid with zero leeway.
        while (h.Time.GetUtcNow() < end)
        {
            h.Time.Advance(h.Options.RefreshCheckInterval);
            Validate(h, runtime.Tokens["job-1"].Token, leeway: TimeSpan.Zero);
            await h.Manager.RefreshAsync(CancellationToken.None);
            var claims = Validate(h, runtime.Tokens["job-1"].Token, leeway: TimeSpan.Zero);
            Assert.True(claims.ExpiresAt - h.Time.GetUtcNow().ToUnixTimeSeconds() >= lifetime.TotalSeconds / 2);
            distinct.Add(claims.Jti);
        }

        // Re-issued at each half lifetime: about 6 tokens over three lifetimes.
        Assert.InRange(distinct.Count, 6, 7);
    }

    [Fact]
    public async Task Refresh_AfterPromotion_EveryLiveJobHoldsNewKid()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        for (var i = 0; i < 5; i++)
        {
            await h.StartAsync($"job-{i}");
        }

        var kid = h.Keys.AddKey();
        h.Keys.Promote(kid);
        Assert.True(h.KeySource.Reload());

        Assert.Equal(5, await h.Manager.RefreshAsync(CancellationToken.None));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(kid, Validate(h, runtime.Tokens[$"job-{i}"].Token).Kid);
            Assert.Equal(kid, h.Manager.Get($"job-{i}")!.Token!.Kid);
        }

        Assert.Equal(0, await h.Manager.RefreshAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Refresh_DeliveryFails_RetriedOnNextCheckAndOldTokenStillRevokedOnStop()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var store = (InMemoryRevocationStore)h.Store;
        var first = await h.StartAsync("job-1");
        h.Time.Advance(TimeSpan.FromMinutes(31));
        runtime.FailDeliveries = true;

        Assert.Equal(0, await h.Manager.RefreshAsync(CancellationToken.None));
        Assert.Equal(first.Token!.Jti, h.Manager.Get("job-1")!.Token!.Jti);

        runtime.FailDeliveries = false;
        Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));
        await h.Manager.StopAsync("job-1", CancellationToken.None);

        // The undelivered token might still have reached the job: it is revoked too.
        Assert.Equal(3, store.List.Count);
    }

    [Fact]
    public async Task Refresh_FinishedJob_IsNotRefreshed()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        await h.StartAsync("job-1");
        runtime.States["job-1"] = JobState.Succeeded;
        await h.Manager.SyncStatesAsync(CancellationToken.None);
        h.Time.Advance(TimeSpan.FromMinutes(45));

        Assert.Equal(0, await h.Manager.RefreshAsync(CancellationToken.None));
        Assert.Equal(JobState.Succeeded, h.Manager.Get("job-1")!.State);
    }

    [Fact]
    public async Task Stop_ConcurrentWithRefresh_NoTokenMintedAfterRevocationSurvives()
    {
        using var h = new CoreHarness();
        var store = (InMemoryRevocationStore)h.Store;
        for (var i = 0; i < 20; i++)
        {
            await h.StartAsync($"job-{i}");
        }

        h.Time.Advance(TimeSpan.FromMinutes(31));
        var refresh = h.Manager.RefreshAsync(CancellationToken.None);
        var stops = Enumerable.Range(0, 20).Select(i => h.Manager.StopAsync($"job-{i}", CancellationToken.None)).ToList();
        await refresh;
        await Task.WhenAll(stops);

        // Every token ever issued (20 starts + however many refreshes ran first) is in the list.
        Assert.Empty(h.Manager.List());
        Assert.Equal(store.List.Count, store.List.Entries.Count);
        Assert.InRange(store.List.Count, 20, 40);
        Assert.Equal(store.List.Count, stops.Sum(s => s.Result.Value!.Revoked));
    }

    [Fact]
    public async Task KeyUsage_AfterPromotion_CountsLiveTokensPerKid()
    {
        using var h = new CoreHarness();
        await h.StartAsync("job-1");
        await h.StartAsync("job-2");
        var kid = h.Keys.AddKey();
        h.Keys.Promote(kid);
        h.KeySource.Reload();
        await h.Manager.RefreshAsync(CancellationToken.None);

        var usage = h.Manager.KeyUsage(h.KeySource.Current!.Kids);

        Assert.Equal(kid, usage.ActiveKid);
        var v1 = Assert.Single(usage.Keys, k => k.Kid == "v1");
        var v2 = Assert.Single(usage.Keys, k => k.Kid == kid);
        Assert.Equal((2, 0), (v1.LiveTokens, v1.CurrentTokens));
        Assert.Equal((2, 2), (v2.LiveTokens, v2.CurrentTokens));
        Assert.True(v2.Active);

        // Once the superseded v1 tokens expire (plus leeway), v1 has no live token left.
        h.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(31));
        Assert.Equal(0, h.Manager.KeyUsage(h.KeySource.Current.Kids).Keys.Single(k => k.Kid == "v1").LiveTokens);
    }

    [Fact]
    public async Task Start_NoKeyRing_NotReady()
    {
        using var h = new CoreHarness();
        h.KeySource.Dispose();
        using var folder = new RequestsProxy.Testing.Files.TempFolder();
        using var empty = new RequestsProxy.Tokens.Keys.KeyRingSource(folder.Path, TimeSpan.FromSeconds(10), h.Time);
        empty.Start();
        var credentials = new StatelessJobCredentials(new TokenIssuer(empty, h.Time), empty, h.Ledger, h.Options, h.Time);
        var manager = new JobManager(h.Runtime, credentials, h.Ledger, h.JobLedger, h.Options, h.Time, h.Metrics, RequestsProxy.JobsManager.Audit.JobAudit.None, Microsoft.Extensions.Logging.Abstractions.NullLogger<JobManager>.Instance);
        Assert.True(await manager.RestoreAsync(CancellationToken.None));

        var result = await manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(JobError.NotReady, result.Error);
    }

    private static VerifiedClaims Validate(CoreHarness h, string token, TimeSpan? leeway = null)
    {
        var validator = new TokenValidator(h.KeySource, StaticRevocationSource.None, new TokenValidationOptions { Leeway = leeway ?? TokenDefaults.Leeway }, h.Time);
        var result = validator.Validate(token);
        Assert.True(result.IsValid, result.Reason);
        return result.Claims!;
    }
}
