using RequestsProxy.Server.Tests.Authentication;

namespace RequestsProxy.Server.Tests.Metrics;

/// <summary>
/// System.Diagnostics meters are process-wide: a proxy hosted by a test running in parallel
/// creates instruments with the same meter name, and this host's exporter would report them too.
/// The collection runs alone, after every parallel test has disposed its host.
/// </summary>
[CollectionDefinition(nameof(ProxyMetricsTests), DisableParallelization = true)]
[Collection(nameof(ProxyMetricsTests))]
public sealed class ProxyMetricsTests
{
    [Fact]
    public async Task Metrics_AfterTraffic_ExposeOutcomesReasonsRingRevocationsAndLatency()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        (await proxy.PostAsync("/v1/results", proxy.Mint("job-1"))).Dispose();
        (await proxy.PostAsync("/v1/results", "bad")).Dispose();
        (await proxy.PostAsync("/v1/results", token: null)).Dispose();
        await ProxyAuthenticationTests.RevokeAsync(proxy, "some-jti");

        // A forwarded request is counted when YARP returns, which can be just after the client
        // already holds its response; scrape until that last write has landed.
        const string forwarded = "requests_proxy_requests_total{otel_scope_name=\"RequestsProxy.Server\",outcome=\"forwarded\",reason=\"ok\"} 1";
        var text = "";
        var landed = await ProxyAuthenticationTests.EventuallyAsync(async () =>
            (text = await proxy.MetricsAsync()).Contains(forwarded, StringComparison.Ordinal), TimeSpan.FromSeconds(4));

        Assert.True(landed, text);
        Assert.Contains("outcome=\"unauthorized\",reason=\"malformed\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"unauthorized\",reason=\"missing_token\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_upstream_duration_seconds_count{otel_scope_name=\"RequestsProxy.Server\",error=\"none\",route=\"catch-all\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_key_ring_kid{otel_scope_name=\"RequestsProxy.Server\",active=\"true\",kid=\"v1\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_key_ring_keys{otel_scope_name=\"RequestsProxy.Server\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_key_ring_ready{otel_scope_name=\"RequestsProxy.Server\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_revocations_entries{otel_scope_name=\"RequestsProxy.Server\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_revocations_reloads_total{otel_scope_name=\"RequestsProxy.Server\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_key_ring_reload_failures_total{otel_scope_name=\"RequestsProxy.Server\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("mode=\"stateless\",namespace=\"ns\",release=\"rel\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("job-1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_ChunkedBodyOverLimit_IsARejectionNotAForward()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_BODY_BYTES"] = "1024");
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"));
        request.Content = new StreamContent(new MemoryStream(new byte[64 * 1024]));
        request.Headers.TransferEncodingChunked = true;
        (await proxy.Client.SendAsync(request)).Dispose();

        const string rejected = "requests_proxy_requests_total{otel_scope_name=\"RequestsProxy.Server\",outcome=\"rejected\",reason=\"body_too_large\"} 1";
        var text = "";
        var counted = await ProxyAuthenticationTests.EventuallyAsync(async () =>
            (text = await proxy.MetricsAsync()).Contains(rejected, StringComparison.Ordinal), TimeSpan.FromSeconds(4));

        Assert.True(counted, text);
        Assert.DoesNotContain("outcome=\"forwarded\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_RefusedKeyRingUpdate_IsCounted()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        proxy.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v1", ["v1"] = "short" });

        var counted = await ProxyAuthenticationTests.EventuallyAsync(async () =>
            !(await proxy.MetricsAsync()).Contains("requests_proxy_key_ring_reload_failures_total{otel_scope_name=\"RequestsProxy.Server\"} 0", StringComparison.Ordinal),
            TimeSpan.FromSeconds(4));

        Assert.True(counted);
        using var still = await proxy.PostAsync("/v1/results", proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims()));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, still.StatusCode);
    }
}
