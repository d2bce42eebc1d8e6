using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Metrics;

/// <summary>
/// Instruments are read with <see cref="MetricCollector{T}"/> on this host's own meter factory, so
/// jobs-managers hosted by tests running in parallel (same meter name, same process) never mix in.
/// </summary>
public sealed class KeyRingMetricsTests
{
    [Fact]
    public async Task Metrics_RefusedKeyRingUpdate_IsCountedAndTheLastGoodRingStillSigns()
    {
        await using var host = await ApiHost.StartAsync(configure: o => o.KeysPollInterval = TimeSpan.FromMilliseconds(200));
        var meters = host.App.Services.GetRequiredService<IMeterFactory>();
        using (var started = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } }))
        {
            started.EnsureSuccessStatusCode();
        }

        Assert.Equal(1, Observe<int>(meters, "jobs_manager.key_ring.ready"));

        // active names a kid that is not there: refused, the last good ring stays.
        host.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v9", ["v1"] = new string('k', 64) });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && Observe<long>(meters, "jobs_manager.key_ring.reload_failures") == 0)
        {
            await Task.Delay(100);
        }

        Assert.Equal(1, Observe<long>(meters, "jobs_manager.key_ring.reload_failures"));
        Assert.Equal(1, Observe<int>(meters, "jobs_manager.key_ring.ready"));
        using var second = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-2", command = new[] { "/bin/sh", "-c", "sleep 30" } });
        Assert.Equal(System.Net.HttpStatusCode.Created, second.StatusCode);
    }

    /// <summary>The value an observable instrument reports now.</summary>
    private static T Observe<T>(IMeterFactory meters, string instrument)
        where T : struct
    {
        using var collector = new MetricCollector<T>(meters, JobsManagerMetrics.MeterName, instrument);
        collector.RecordObservableInstruments();
        return Assert.Single(collector.GetMeasurementSnapshot()).Value;
    }
}
