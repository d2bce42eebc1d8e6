using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Server.Tests.Authentication;

namespace RequestsProxy.Server.Tests.Metrics;

/// <summary>
/// Instruments are read with <see cref="MetricCollector{T}"/> on each host's own meter factory, so
/// the proxies that tests running in parallel host (same meter name, same process) never show up
/// here; one test reads the Prometheus scrape for the documented series names.
/// </summary>
public sealed class ProxyMetricsTests
{
    [Fact]
    public async Task Metrics_AfterTraffic_CountOutcomesReasonsRingRevocationsAndLatency()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var meters = proxy.App.Services.GetRequiredService<IMeterFactory>();
        using var requests = Collect<long>(meters, "requests_proxy.requests");
        using var upstream = Collect<double>(meters, "requests_proxy.upstream.duration");

        (await proxy.PostAsync("/v1/results", proxy.Mint("job-1"))).Dispose();
        (await proxy.PostAsync("/v1/results", "bad")).Dispose();
        (await proxy.PostAsync("/v1/results", token: null)).Dispose();
        await ProxyAuthenticationTests.RevokeAsync(proxy, "some-jti");

        // A forwarded request is counted when YARP returns, which can be just after the client already holds its response.
        await requests.WaitForMeasurementsAsync(3, TimeSpan.FromSeconds(4));
        Assert.Equal(1, Count(requests, "forwarded", "ok"));
        Assert.Equal(1, Count(requests, "unauthorized", "malformed"));
        Assert.Equal(1, Count(requests, "unauthorized", "missing_token"));
        var duration = Assert.Single(upstream.GetMeasurementSnapshot());
        Assert.True(duration.ContainsTags(Tag("route", "catch-all"), Tag("error", "none")));

        var kid = Assert.Single(Observe<int>(meters, "requests_proxy.key_ring.kid"));
        Assert.Equal(1, kid.Value);
        Assert.True(kid.ContainsTags(Tag("kid", "v1"), Tag("active", "true")));
        Assert.Equal(1, Assert.Single(Observe<int>(meters, "requests_proxy.key_ring.keys")).Value);
        Assert.Equal(1, Assert.Single(Observe<int>(meters, "requests_proxy.key_ring.ready")).Value);
        Assert.Equal(1, Assert.Single(Observe<int>(meters, "requests_proxy.revocations.entries")).Value);
        Assert.Equal(2, Assert.Single(Observe<long>(meters, "requests_proxy.revocations.reloads")).Value);
        Assert.Equal(0, Assert.Single(Observe<long>(meters, "requests_proxy.key_ring.reload_failures")).Value);
        Assert.True(Assert.Single(Observe<int>(meters, "requests_proxy.info")).ContainsTags(Tag("mode", "stateless"), Tag("namespace", "ns"), Tag("release", "rel")));

        // Low cardinality: no subject in any tag.
        Assert.DoesNotContain(requests.GetMeasurementSnapshot(), m => m.Tags.Values.Contains("job-1"));
    }

    [Fact]
    public async Task Scrape_AfterTraffic_ExposesTheDocumentedSeriesNames()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        (await proxy.PostAsync("/v1/results", proxy.Mint("job-1"))).Dispose();

        // Names only: hosts of tests running in parallel share the process's meters, so their values may mix in.
        string[] series =
        [
            "requests_proxy_requests_total{", "requests_proxy_upstream_duration_seconds_bucket{", "requests_proxy_info{",
            "requests_proxy_key_ring_ready{", "requests_proxy_key_ring_keys{", "requests_proxy_key_ring_kid{",
            "requests_proxy_key_ring_reloads_total{", "requests_proxy_key_ring_reload_failures_total{",
            "requests_proxy_revocations_entries{", "requests_proxy_revocations_ready{",
            "requests_proxy_revocations_reloads_total{", "requests_proxy_revocations_reload_failures_total{",
        ];
        var text = "";
        var complete = await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            text = await proxy.MetricsAsync();
            return series.All(s => text.Contains(s, StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(4));

        Assert.True(complete, $"missing {string.Join(", ", series.Where(s => !text.Contains(s, StringComparison.Ordinal)))} in:\n{text}");
        Assert.DoesNotContain("job-1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ChunkedBodyOverLimit_IsARejectionNotAForward()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_BODY_BYTES"] = "1024");
        using var requests = Collect<long>(proxy.App.Services.GetRequiredService<IMeterFactory>(), "requests_proxy.requests");
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"));
        request.Content = new StreamContent(new MemoryStream(new byte[64 * 1024]));
        request.Headers.TransferEncodingChunked = true;
        (await proxy.Client.SendAsync(request)).Dispose();

        await requests.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(4));

        Assert.Equal(1, Count(requests, "rejected", "body_too_large"));
        Assert.DoesNotContain(requests.GetMeasurementSnapshot(), m => m.ContainsTags(Tag("outcome", "forwarded")));
    }

    [Fact]
    public async Task Metrics_RefusedKeyRingUpdate_IsCounted()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var meters = proxy.App.Services.GetRequiredService<IMeterFactory>();
        proxy.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v1", ["v1"] = "short" });

        var counted = await ProxyAuthenticationTests.EventuallyAsync(
            () => Task.FromResult(Assert.Single(Observe<long>(meters, "requests_proxy.key_ring.reload_failures")).Value > 0), TimeSpan.FromSeconds(4));

        Assert.True(counted);
        using var still = await proxy.PostAsync("/v1/results", proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims()));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, still.StatusCode);
    }

    private static MetricCollector<T> Collect<T>(IMeterFactory meters, string instrument)
        where T : struct => new(meters, ProxyMetrics.MeterName, instrument);

    /// <summary>One observation of an observable instrument now.</summary>
    private static IReadOnlyList<CollectedMeasurement<T>> Observe<T>(IMeterFactory meters, string instrument)
        where T : struct
    {
        using var collector = Collect<T>(meters, instrument);
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot();
    }

    private static long Count(MetricCollector<long> requests, string outcome, string reason) =>
        requests.GetMeasurementSnapshot().Where(m => m.ContainsTags(Tag("outcome", outcome), Tag("reason", reason))).Sum(m => m.Value);

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
