using System.Text.Json.Nodes;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// <c>helm upgrade</c> from a release of the HC-1 chart (0.1.0 of commit 71860c7, packaged in Fixtures/), with the
/// real helm: the release is HC-1's own <c>helm install</c> output, kept in helm's memory driver
/// (<c>HELM_MEMORY_DRIVER_DATA</c>), and the upgrade runs <c>--dry-run=client</c> against the fake API server (helm
/// asks it for the server version and API groups). <c>--reuse-values</c> keeps HC-1's chart defaults, which lack every
/// value added since; the chart accepts that and fills them in.
/// </summary>
public sealed class Hc1UpgradeTests : IAsyncLifetime, IDisposable
{
    private const string Proxy = "rel-requests-proxy";
    private const string JobsManager = "rel-jobs-manager";

    private static readonly string Hc1Chart = Path.Combine(AppContext.BaseDirectory, "Fixtures", "hc1-requests-proxy-0.1.0.tgz");

    private readonly HelmChart _helm = new();
    private FakeKubernetesApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeKubernetesApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData("--reuse-values")]
    [InlineData("--reset-then-reuse-values")]
    public async Task Upgrade_FromHc1Release_KeepsItsValuesAndFlipsToStateless(string mode)
    {
        await InstallHc1Async("--set", "requestsProxy.upstream.url=https://edge.example", "--set", "requestsProxy.replicas=3", "--set", "requestsProxy.tokenTtlSeconds=86400");

        var chart = await UpgradeAsync(mode, "--set", "requestsProxy.statelessTokens=true");

        var proxyEnv = chart.Env(Proxy);
        Assert.Equal("https://edge.example", proxyEnv["REQUESTS_PROXY_UPSTREAM"]);
        Assert.Equal("true", proxyEnv["REQUESTS_PROXY_STATELESS"]);
        Assert.Equal("3", chart.Get("Deployment", Proxy).Str("spec", "replicas"));
        Assert.Equal("86400", chart.Env(JobsManager)["REQUESTS_PROXY_TOKEN_TTL_SECONDS"]);
        // Objects of values HC-1 did not have come out with their defaults.
        Assert.Equal("rel-jobs-manager-state", chart.Env(JobsManager)["JOBS_MANAGER_STATE_CONFIGMAP_NAME"]);
        Assert.Null(chart.Find("ConfigMap", "rel-jobs-manager-state")); // created by the jobs-manager at start-up
        Assert.NotNull(chart.Find("Service", "rel-requests-proxy-pods"));
        Assert.Empty(chart.OfKind("ServiceMonitor"));
        Assert.Null(chart.PodSpec(Proxy)["priorityClassName"]);
    }

    [Fact]
    public async Task Upgrade_ReuseValuesFromHc1_NewValuesCanBeSetAtTheSameTime()
    {
        await InstallHc1Async("--set", "requestsProxy.upstream.url=https://edge.example");

        var chart = await UpgradeAsync("--reuse-values", "--set", "monitoring.serviceMonitor.enabled=true", "--set", "jobsManager.priorityClassName=high");

        Assert.Single(chart.OfKind("ServiceMonitor"));
        Assert.Equal("high", chart.PodSpec(JobsManager).Str("priorityClassName"));
    }

    [Fact]
    public async Task Upgrade_FromHc1WithTwoJobsManagers_RefusedNamingTheValue()
    {
        // HC-1 allowed jobsManager.replicas=2; two jobs-managers lose jobs (docs/operations.md): the migration says set it to 1.
        await InstallHc1Async("--set", "requestsProxy.upstream.url=https://edge.example", "--set", "jobsManager.replicas=2");

        var result = await UpgradeRawAsync("--reuse-values");

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains("/jobsManager/replicas", result.StandardError, StringComparison.Ordinal);
        var fixedUp = await UpgradeAsync("--reuse-values", "--set", "jobsManager.replicas=1");
        Assert.Equal("1", fixedUp.Get("Deployment", JobsManager).Str("spec", "replicas"));
    }

    private async Task InstallHc1Async(params string[] sets)
    {
        var install = await _helm.RunAsync(["install", HelmChart.Release, Hc1Chart, "--namespace", HelmChart.Namespace, "--dry-run=client", "-o", "json", .. sets]);
        Assert.True(install.Succeeded, install.StandardError);
        var release = JsonNode.Parse(install.StandardOutput)!.AsObject();
        Assert.Equal("0.1.0", release["chart"]!.Str("metadata", "version"));
        release["info"]!["status"] = "deployed";
        var data = Path.Combine(_helm.Home, "releases.json");
        await File.WriteAllTextAsync(data, new JsonArray(release).ToJsonString());
        _helm.Environment["HELM_DRIVER"] = "memory";
        _helm.Environment["HELM_MEMORY_DRIVER_DATA"] = data;
    }

    private Task<Testing.Tools.ToolResult> UpgradeRawAsync(params string[] arguments)
    {
        var kubeconfig = _server.WriteKubeconfig(Path.Combine(_helm.Home, "kube"), HelmChart.Namespace);
        return _helm.RunAsync(["upgrade", HelmChart.Release, HelmChart.ChartPath, "--namespace", HelmChart.Namespace, "--dry-run=client", "-o", "json", "--kubeconfig", kubeconfig, .. arguments]);
    }

    private async Task<RenderedChart> UpgradeAsync(params string[] arguments)
    {
        var result = await UpgradeRawAsync(arguments);
        Assert.True(result.Succeeded, $"helm upgrade failed ({result.ExitCode}): {result.StandardError}");
        var release = JsonNode.Parse(result.StandardOutput)!;
        Assert.Equal("2", release.Str("version"));
        var manifest = release.Str("manifest")!;
        return new RenderedChart(manifest, YamlJson.ParseDocuments(manifest));
    }
}
