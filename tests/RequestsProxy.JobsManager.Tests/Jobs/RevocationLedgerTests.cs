using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Jobs;

public sealed class RevocationLedgerTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Prune_DropsOnlyEntriesPastExpPlusLeeway()
    {
        var time = new FakeTimeProvider(Now);
        var store = new InMemoryRevocationStore();
        using var meters = new TestMeterFactory();
        var ledger = new RevocationLedger(store, new JobsManagerOptions(), time, new JobsManagerMetrics(meters), new FakeLogger<RevocationLedger>());
        var nowSeconds = Now.ToUnixTimeSeconds();
        await ledger.AddAsync(
        [
            new RevocationEntry("long-gone", nowSeconds - 3600, "job-a"),
            new RevocationEntry("inside-leeway", nowSeconds - 10, "job-a"),
            new RevocationEntry("at-leeway-edge", nowSeconds - 30, "job-b"),
            new RevocationEntry("future", nowSeconds + 3600, "job-b"),
            new RevocationEntry("bare"),
        ], CancellationToken.None);

        var removed = await ledger.PruneAsync(CancellationToken.None);

        // now >= exp + leeway is what the validator refuses as expired, so those entries are useless.
        Assert.Equal(2, removed);
        Assert.Equal(["inside-leeway", "future", "bare"], store.List.Entries.Select(e => e.Jti));
        Assert.Equal(0, await ledger.PruneAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Add_ListNearConfigMapLimit_ExportsSizeAndWarns()
    {
        var time = new FakeTimeProvider(Now);
        var store = new InMemoryRevocationStore();
        using var meters = new TestMeterFactory();
        var metrics = new JobsManagerMetrics(meters);
        var logger = new FakeLogger<RevocationLedger>();
        var ledger = new RevocationLedger(store, new JobsManagerOptions(), time, metrics, logger);
        using var size = new MetricCollector<long>(meters, JobsManagerMetrics.MeterName, "jobs_manager.revocation.list.size");

        await ledger.AddAsync([new RevocationEntry("small", Now.ToUnixTimeSeconds() + 60, "job")], CancellationToken.None);
        size.RecordObservableInstruments();
        Assert.Equal(store.List.Serialize().Length, size.LastMeasurement!.Value);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);

        // ~70-byte entries: 12,000 of them pass 80 % of 1 MiB.
        var many = Enumerable.Range(0, 12_000).Select(i => new RevocationEntry($"jti-{i:D20}-padding-padding", Now.ToUnixTimeSeconds() + 60, "job-with-a-name")).ToList();
        await ledger.AddAsync(many, CancellationToken.None);
        size.RecordObservableInstruments();

        Assert.True(size.LastMeasurement!.Value >= DocumentLimits.WarningThresholdBytes);
        Assert.Equal(store.List.Serialize().Length, size.LastMeasurement.Value);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Id.Id == 300);
    }
}
