using Microsoft.Extensions.Configuration;
using System.Net;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Tests.Hosting;

/// <summary>
/// <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> answer on the management port only; the
/// pod-facing port relays configured routes only.
/// </summary>
[Collection(nameof(Metrics.ProxyMetricsTests))]
public sealed class ManagementPortTests
{
    [Theory]
    [InlineData("/metrics")]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task ManagementPath_OnTheManagementPort_Answers(string path)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.Management.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    // As found: kid names, the active kid and per-route counts, on the port every pod reaches.
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/healthz")]
    [InlineData("GET", "/readyz")]
    // Spellings that would miss the proxy's endpoint and land on the catch-all route.
    [InlineData("GET", "//metrics")]
    [InlineData("GET", "/METRICS")]
    [InlineData("GET", "/metrics;x=1")]
    [InlineData("GET", "/metrics.")]
    [InlineData("POST", "/readyz")]
    [InlineData("GET", "/healthz/")]
    public async Task ManagementPath_OnThePodPort_Is404AndNeverRelayed(string method, string path)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        var response = await RawHttp.SendAsync(proxy.Address, $"{method} {path} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nContent-Length: 0");

        Assert.Equal(404, response.Status);
        Assert.DoesNotContain("requests_proxy", response.Text, StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
        // Meters are process-wide: a proxy of a parallel test may add its own refusals to this count.
        Assert.Contains("outcome=\"rejected\",reason=\"reserved_path\"}", await proxy.MetricsAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/results")]
    [InlineData("/admin/v1/tokens")]
    [InlineData("/anything")]
    public async Task Route_OnTheManagementPort_Is404AndNeverRelayed(string path)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.Management.SendAsync(ProxyHarness.Request(HttpMethod.Post, path, proxy.Mint("job-1"), "{}"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Relay_OnThePodPort_StillWorks()
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(proxy.Address.Port, proxy.ManagementAddress.Port);
    }

    [Theory]
    [InlineData("https://127.0.0.1:9443", "only http://host:port")]
    [InlineData("http://proxy.example:9090", "the host must be an IP address")]
    [InlineData("http://127.0.0.1:18888", "also a pod-facing port")]
    public void Build_UnusableManagementUrl_IsAConfigurationError(string url, string message)
    {
        using var folder = new RequestsProxy.Testing.Files.TempFolder();
        var error = Assert.Throws<InvalidSettingsException>(() => ProxyApp.Build(["--urls", "http://127.0.0.1:18888"], builder =>
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [EnvironmentVariables.KeysDirectory] = folder.Combine("keys"),
                [EnvironmentVariables.RevokedDirectory] = folder.Combine("revoked"),
                [EnvironmentVariables.Upstream] = "http://127.0.0.1:1/",
                [EnvironmentVariables.RoutesFile] = null,
                [EnvironmentVariables.ManagementUrls] = url,
            })));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
