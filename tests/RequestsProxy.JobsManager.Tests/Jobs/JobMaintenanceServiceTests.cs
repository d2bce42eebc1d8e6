using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Jobs;

public sealed class JobMaintenanceServiceTests
{
    [Fact]
    public async Task Loop_FakeClockAdvancesThreeLifetimes_JobAlwaysHoldsUnexpiredToken()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        await h.StartAsync("job-1");
        using var service = new JobMaintenanceService(h.Manager, h.Ledger, h.Options, h.Time, NullLogger<JobMaintenanceService>.Instance, h.KeySource);
        await service.StartAsync(CancellationToken.None);
        try
        {
            var end = h.Time.GetUtcNow() + 3 * h.Options.TokenLifetime;
            while (h.Time.GetUtcNow() < end)
            {
                var passes = service.Passes;
                h.Time.Advance(h.Options.RefreshCheckInterval);
                await Eventually.TrueAsync(() => service.Passes > passes, "a maintenance pass after the tick");
                var current = h.Manager.Get("job-1")!.Token!;
                Assert.True(current.ExpiresAt > h.Time.GetUtcNow(), $"token expired at {current.ExpiresAt:O}, now {h.Time.GetUtcNow():O}");
                Assert.Equal(current.Jti, runtime.Tokens["job-1"].Facts.Jti);
            }
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }

        Assert.True(h.Manager.Get("job-1")!.TokensIssued >= 6);
    }

    [Fact]
    public async Task Loop_ActiveKidChanges_EveryLiveJobReissuedWithoutWaitingForTick()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        for (var i = 0; i < 3; i++)
        {
            await h.StartAsync($"job-{i}");
        }

        using var service = new JobMaintenanceService(h.Manager, h.Ledger, h.Options, h.Time, NullLogger<JobMaintenanceService>.Instance, h.KeySource);
        await service.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => service.Passes >= 1, "the first pass");
            var kid = h.Keys.AddKey();
            h.Keys.Promote(kid);

            // The poll timer fires on the fake clock's poll period; no refresh tick has passed yet.
            h.Time.Advance(TimeSpan.FromSeconds(10));

            await Eventually.TrueAsync(() => runtime.Tokens.Values.All(t => t.Facts.Kid == kid), "every job re-issued with the new kid");
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Loop_PruneIntervalPasses_ExpiredEntriesPruned()
    {
        using var h = new CoreHarness();
        var store = (InMemoryRevocationStore)h.Store;
        var now = h.Time.GetUtcNow().ToUnixTimeSeconds();
        await h.Ledger.AddAsync([new RevocationEntry("old", now + 60, "job-x"), new RevocationEntry("new", now + 7200, "job-y")], CancellationToken.None);
        using var service = new JobMaintenanceService(h.Manager, h.Ledger, h.Options, h.Time, NullLogger<JobMaintenanceService>.Instance, h.KeySource);
        await service.StartAsync(CancellationToken.None);
        try
        {
            await Eventually.TrueAsync(() => service.Passes >= 1, "the first pass");
            Assert.Equal(2, store.List.Count);

            // Past "old"'s exp + leeway and past one prune interval (1 h).
            for (var i = 0; i < 61; i++)
            {
                var passes = service.Passes;
                h.Time.Advance(h.Options.RefreshCheckInterval);
                await Eventually.TrueAsync(() => service.Passes > passes, "a pass");
            }

            Assert.Equal(["new"], store.List.Entries.Select(e => e.Jti));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }
}
