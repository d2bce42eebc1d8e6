namespace RequestsProxy.Chart.Tests;

/// <summary>The README's bare <c>helm install</c> cannot produce a proxy that exits 2: rendering fails and says what to set.</summary>
public sealed class ChartDefaultsTests : IDisposable
{
    private readonly HelmChart _helm = new() { WithUpstream = false };

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_DefaultValues_FailsNamingUpstreamUrl()
    {
        var result = await _helm.TemplateRawAsync();

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains("requestsProxy.upstream.url is empty", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("--set requestsProxy.upstream.url=https://", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallDryRun_DefaultValues_FailsNamingUpstreamUrl()
    {
        var result = await _helm.RunAsync(["install", HelmChart.Release, HelmChart.ChartPath, "--namespace", HelmChart.Namespace, "--dry-run=client"]);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains("requestsProxy.upstream.url", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_EveryRouteHasItsOwnUpstream_NoUrlNeeded()
    {
        var chart = await _helm.TemplateAsync(valuesYaml: """
            requestsProxy:
              routes:
                - name: results
                  path: /v1/results
                  requiredScope: results:write
                  upstream: http://results.example
            """);

        Assert.Equal("/etc/proxy/routes/routes.json", chart.Env("rel-requests-proxy")["REQUESTS_PROXY_ROUTES_FILE"]);
    }

    [Theory]
    [InlineData("--set requestsProxy.upstream.url=results.example")]
    [InlineData("--set requestsProxy.upstream.url=ftp://results.example")]
    public async Task Template_UrlWithoutHttpScheme_Rejected(string set)
    {
        var result = await _helm.TemplateRawAsync([set]);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains("url", result.StandardError, StringComparison.Ordinal);
    }
}
