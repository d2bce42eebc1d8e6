using System.Net.Http.Json;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Metrics;

/// <summary>
/// System.Diagnostics meters are process-wide: a jobs-manager hosted by a test running in parallel
/// would add its instruments to this host's scrape. The collection runs alone.
/// </summary>
[CollectionDefinition(nameof(KeyRingMetricsTests), DisableParallelization = true)]
[Collection(nameof(KeyRingMetricsTests))]
public sealed class KeyRingMetricsTests
{
    [Fact]
    public async Task Metrics_RefusedKeyRingUpdate_IsCountedAndTheLastGoodRingStillSigns()
    {
        await using var host = await ApiHost.StartAsync(configure: o => o.KeysPollInterval = TimeSpan.FromMilliseconds(200));
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        using (var started = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } }))
        {
            started.EnsureSuccessStatusCode();
        }

        Assert.Contains("jobs_manager_key_ring_ready{otel_scope_name=\"RequestsProxy.JobsManager\"} 1", await anonymous.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // active names a kid that is not there: refused, the last good ring stays.
        host.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v9", ["v1"] = new string('k', 64) });
        const string counted = "jobs_manager_key_ring_reload_failures_total{otel_scope_name=\"RequestsProxy.JobsManager\"} 1";
        var text = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && !(text = await anonymous.GetStringAsync("/metrics")).Contains(counted, StringComparison.Ordinal))
        {
            await Task.Delay(100);
        }

        Assert.Contains(counted, text, StringComparison.Ordinal);
        Assert.Contains("jobs_manager_key_ring_ready{otel_scope_name=\"RequestsProxy.JobsManager\"} 1", text, StringComparison.Ordinal);
        using var second = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-2", command = new[] { "/bin/sh", "-c", "sleep 30" } });
        Assert.Equal(System.Net.HttpStatusCode.Created, second.StatusCode);
    }
}
