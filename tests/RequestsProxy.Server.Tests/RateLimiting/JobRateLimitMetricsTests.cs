using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Server.RateLimiting;

namespace RequestsProxy.Server.Tests.RateLimiting;

/// <summary>429s counted by route and reason, read on the host's own meter factory.</summary>
public sealed class JobRateLimitMetricsTests
{
    [Fact]
    public async Task Metrics_429s_CountedByRouteAndReasonNeverByJob()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => (s[RateLimitNames.RequestsPerSecondVariable], s[RateLimitNames.BurstVariable]) = ("0.1", "1"));
        var meters = proxy.App.Services.GetRequiredService<IMeterFactory>();
        using var limited = new MetricCollector<long>(meters, ProxyMetrics.MeterName, "requests_proxy.rate_limited");
        using var requests = new MetricCollector<long>(meters, ProxyMetrics.MeterName, "requests_proxy.requests");
        var token = proxy.Mint("job-secret-name");
        for (var i = 0; i < 4; i++)
        {
            (await proxy.PostAsync("/v1/results", token)).Dispose();
        }

        await requests.WaitForMeasurementsAsync(4, TimeSpan.FromSeconds(4));

        var counted = limited.GetMeasurementSnapshot();
        Assert.Equal(3, counted.Sum(m => m.Value));
        Assert.All(counted, m => Assert.True(m.ContainsTags(Tag("route", "catch-all"), Tag("reason", "rate_limited"))));
        Assert.Equal(3, requests.GetMeasurementSnapshot().Where(m => m.ContainsTags(Tag("outcome", "limited"), Tag("reason", "rate_limited"))).Sum(m => m.Value));
        Assert.Equal(1, requests.GetMeasurementSnapshot().Where(m => m.ContainsTags(Tag("outcome", "forwarded"))).Sum(m => m.Value));
        Assert.DoesNotContain(counted, m => m.Tags.Values.Contains("job-secret-name"));
    }

    [Fact]
    public async Task Scrape_After429_ExposesTheDocumentedSeries()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => (s[RateLimitNames.RequestsPerSecondVariable], s[RateLimitNames.BurstVariable]) = ("0.1", "1"));
        var token = proxy.Mint("job-secret-name");
        (await proxy.PostAsync("/v1/results", token)).Dispose();
        (await proxy.PostAsync("/v1/results", token)).Dispose();

        // Names only: hosts of tests running in parallel share the process's meters.
        var text = await proxy.MetricsAsync();

        Assert.Contains("requests_proxy_rate_limited_total{", text, StringComparison.Ordinal);
        Assert.Contains("reason=\"rate_limited\",route=\"catch-all\"}", text, StringComparison.Ordinal);
        Assert.DoesNotContain("job-secret-name", text, StringComparison.Ordinal);
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
