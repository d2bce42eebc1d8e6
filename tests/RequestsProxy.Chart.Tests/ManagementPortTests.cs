namespace RequestsProxy.Chart.Tests;

/// <summary>The proxy's management port: container port, probes, the Service's metrics port, and kept from training pods.</summary>
public sealed class ManagementPortTests : IDisposable
{
    private const string Proxy = "rel-requests-proxy";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData(null, 9090)]
    [InlineData(9100, 9100)]
    public async Task Template_ManagementPort_IsTheContainersListenedPortProbedAndServedAsMetrics(int? set, int expected)
    {
        var chart = await _helm.TemplateAsync(set is null ? [] : [$"requestsProxy.managementPort={set}"]);

        var container = chart.Container(Proxy);
        var ports = container["ports"]!.AsArray();
        Assert.Contains(ports, p => p.Str("name") == "management" && p!["containerPort"]!.GetValue<long>() == expected);
        Assert.Contains(ports, p => p.Str("name") == "http" && p!["containerPort"]!.GetValue<long>() == 8888);
        Assert.Equal($"http://0.0.0.0:{expected}", chart.Env(Proxy)["REQUESTS_PROXY_MANAGEMENT_URLS"]);
        Assert.Equal("management", container.Str("livenessProbe", "httpGet", "port"));
        Assert.Equal("management", container.Str("readinessProbe", "httpGet", "port"));
        var service = chart.Get("Service", Proxy)["spec"]!["ports"]!.AsArray();
        Assert.Contains(service, p => p.Str("name") == "metrics" && p.Str("targetPort") == "management");
        Assert.Contains(service, p => p.Str("name") == "http" && p.Str("targetPort") == "http");
    }

    [Fact]
    public async Task Template_NetworkPolicy_AdmitsTrainingPodsToThePodFacingPortOnly()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.managementPort=9100"]);

        var toProxy = chart.Get("NetworkPolicy", "rel-requests-proxy-training-jobs")["spec"]!["egress"]![0]!;
        var ports = toProxy["ports"]!.AsArray().Select(p => p!["port"]!.GetValue<long>()).ToArray();
        Assert.Equal([8888L], ports);
    }

    [Fact]
    public async Task Template_Connections_ReachTheProxysEnvironment()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.connections.max=6000", "requestsProxy.connections.idleTimeoutSeconds=300", "requestsProxy.connections.maxPerClient=0"]);

        Assert.Equal("6000", chart.Env(Proxy)["REQUESTS_PROXY_MAX_CONNECTIONS"]);
        Assert.Equal("0", chart.Env(Proxy)["REQUESTS_PROXY_MAX_CONNECTIONS_PER_CLIENT"]);
        Assert.Equal("300", chart.Env(Proxy)["REQUESTS_PROXY_IDLE_TIMEOUT_SECONDS"]);
    }

    [Theory]
    [InlineData("requestsProxy.managementPort=8888")]
    [InlineData("requestsProxy.managementPort=0")]
    [InlineData("requestsProxy.connections.max=0")]
    public async Task Template_UnusableManagementOrConnectionValue_IsRefusedByTheSchema(string set)
    {
        var result = await _helm.RunAsync("template", "rel", HelmChart.ChartPath, "--set", set);

        Assert.False(result.Succeeded);
    }
}
