using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>Per-job limits: defaults as proxy environment, per-route overrides as route metadata, checked by the schema.</summary>
public sealed class LimitsTests : IDisposable
{
    private const string Proxy = "rel-requests-proxy";

    private const string Overrides = """
        requestsProxy:
          upstream:
            url: https://edge.example
          limits: {requestsPerSecond: 0.5, burst: 0, concurrent: 0}
          routes:
            - name: results
              path: /v1/jobs/{sub}/results
              requiredScope: results:write
              subjectParameter: sub
              limits: {requestsPerSecond: 2.5, burst: 10, concurrent: 3}
            - name: flops
              path: /v1/flops
              requiredScope: flops:write
              limits: {requestsPerSecond: 0}
            - name: status
              path: /v1/status
              requiredScope: status:read
        """;

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_DefaultLimits_ProxyEnvironment()
    {
        var env = (await _helm.TemplateAsync()).Env(Proxy);

        Assert.Equal("50", env["REQUESTS_PROXY_RATE_LIMIT_PER_SECOND"]);
        Assert.Equal("100", env["REQUESTS_PROXY_RATE_LIMIT_BURST"]);
        Assert.Equal("16", env["REQUESTS_PROXY_CONCURRENCY_LIMIT"]);
    }

    [Fact]
    public async Task Template_FractionalRateAndZeroBurst_RateSetBurstLeftToTheProxy()
    {
        var env = (await _helm.TemplateAsync(valuesYaml: Overrides)).Env(Proxy);

        Assert.Equal("0.5", env["REQUESTS_PROXY_RATE_LIMIT_PER_SECOND"]);
        Assert.False(env.ContainsKey("REQUESTS_PROXY_RATE_LIMIT_BURST"));
        Assert.Equal("0", env["REQUESTS_PROXY_CONCURRENCY_LIMIT"]);
    }

    [Fact]
    public async Task Template_RouteLimits_RenderedAsRouteMetadata()
    {
        var chart = await _helm.TemplateAsync(valuesYaml: Overrides);

        var routes = JsonNode.Parse(chart.Get("ConfigMap", "rel-requests-proxy-routes").Str("data", "routes.json")!)!["ReverseProxy"]!["Routes"]!;
        Assert.Equal("2.5", routes["results"].Str("Metadata", "RateLimitPerSecond"));
        Assert.Equal("10", routes["results"].Str("Metadata", "RateLimitBurst"));
        Assert.Equal("3", routes["results"].Str("Metadata", "ConcurrencyLimit"));
        Assert.Equal("0", routes["flops"].Str("Metadata", "RateLimitPerSecond"));
        Assert.Null(routes["flops"]!["Metadata"]!["ConcurrencyLimit"]);
        Assert.Null(routes["status"]!["Metadata"]!["RateLimitPerSecond"]);
    }

    [Fact]
    public async Task Template_ReleaseWithoutLimitsValues_NoLimitEnvironment()
    {
        // What --reuse-values from a chart before limits existed renders: no limits key at all.
        var chart = await _helm.TemplateAsync(valuesYaml: "requestsProxy:\n  limits: null\n");

        Assert.DoesNotContain(chart.Env(Proxy).Keys, k => k.Contains("LIMIT", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--set requestsProxy.limits.requestsPerSecond=-1", "requestsPerSecond")]
    [InlineData("--set requestsProxy.limits.burst=1.5", "burst")]
    [InlineData("--set requestsProxy.limits.concurrent=-3", "concurrent")]
    [InlineData("--set-string requestsProxy.limits.requestsPerSecond=fast", "requestsPerSecond")]
    [InlineData("--set requestsProxy.limits.perJob=1", "perJob")]
    public async Task Template_InvalidLimit_Rejected(string set, string mentioned)
    {
        var result = await _helm.TemplateRawAsync([set]);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains(mentioned, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_InvalidRouteLimit_Rejected()
    {
        var result = await _helm.TemplateRawAsync(valuesYaml: """
            requestsProxy:
              routes:
                - name: r
                  path: /v1/r
                  requiredScope: a:b
                  limits: {requestsPerSecond: 1, bucket: 3}
            """);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains("bucket", result.StandardError, StringComparison.Ordinal);
    }
}
