using System.Text.Json;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The live legacy token list (DESIGN §12): rendered <c>[]</c> on first install and kept on
/// upgrade (<c>lookup</c>) and uninstall, mounted read-only into every proxy in both modes, named
/// by the jobs-manager's env and RBAC, or the operator's own with <c>existingConfigMap</c>.
/// </summary>
public sealed class LegacyTokensTests : IAsyncLifetime, IDisposable
{
    private const string Name = "rel-requests-proxy-legacy-tokens";
    private const string Proxy = "rel-requests-proxy";
    private const string JobsManager = "rel-jobs-manager";
    private const string ListJson = """[{"digest":"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0","sub":"job-7","scope":"results:write"}]""";

    private readonly HelmChart _helm = new();
    private FakeKubernetesApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeKubernetesApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_FirstInstall_EmptyListKeptOnUninstall()
    {
        var chart = await _helm.TemplateAsync();

        var list = chart.Get("ConfigMap", Name);
        Assert.Equal(HelmChart.Namespace, list.Str("metadata", "namespace"));
        Assert.Equal("keep", list.Str("metadata", "annotations", "helm.sh/resource-policy"));
        Assert.Equal("legacy-tokens", list.Str("metadata", "labels", "app.kubernetes.io/component"));
        Assert.Equal(["legacy-tokens.json"], list["data"]!.AsObject().Select(p => p.Key));
        using var json = JsonDocument.Parse(list.Str("data", "legacy-tokens.json")!);
        Assert.Equal(0, json.RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("true", "stateless")]
    [InlineData("false", "legacy")]
    public async Task Template_BothModes_ProxyPodsCarryTheirMode_TheLegacyPodsServiceSelectsLegacyOnly(string stateless, string mode)
    {
        var chart = await _helm.TemplateAsync([$"requestsProxy.statelessTokens={stateless}"]);

        var deployment = chart.Get("Deployment", Proxy);
        Assert.Equal(mode, deployment.Str("spec", "template", "metadata", "labels", "requests-proxy.io/tokens"));
        // Not a selector: the Deployment's selector is immutable, and both modes are the same Deployment.
        Assert.Null(deployment["spec"]!["selector"]!["matchLabels"]!["requests-proxy.io/tokens"]);
        var legacyPods = chart.Get("Service", "rel-requests-proxy-legacy-pods");
        Assert.Equal("None", legacyPods.Str("spec", "clusterIP"));
        Assert.True(legacyPods["spec"]!["publishNotReadyAddresses"]!.GetValue<bool>());
        Assert.Equal("legacy", legacyPods.Str("spec", "selector", "requests-proxy.io/tokens"));
        Assert.Equal("proxy", legacyPods.Str("spec", "selector", "app.kubernetes.io/component"));
        Assert.Null(chart.Get("Service", "rel-requests-proxy-pods")["spec"]!["selector"]!["requests-proxy.io/tokens"]);
        Assert.Equal($"rel-requests-proxy-legacy-pods.{HelmChart.Namespace}.svc", chart.Env(JobsManager)["REQUESTS_PROXY_LEGACY_PODS_DNS"]);
        Assert.Equal("60", chart.Env(Proxy)["REQUESTS_PROXY_LEGACY_SYNC_WAIT_SECONDS"]);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task Template_BothModes_EveryProxyMountsTheListReadOnly_TheJobsManagerNamesIt(string stateless)
    {
        var chart = await _helm.TemplateAsync([$"requestsProxy.statelessTokens={stateless}", "requestsProxy.legacyTokens.pollSeconds=7", "requestsProxy.legacyTokens.graceSeconds=120"]);

        Assert.Equal(("configMap", Name), chart.Mounts(Proxy)["/etc/proxy/legacy-tokens/"]);
        var mount = Assert.Single(chart.Container(Proxy)["volumeMounts"]!.AsArray(), m => m!.Str("mountPath") == "/etc/proxy/legacy-tokens/");
        Assert.True(mount!["readOnly"]!.GetValue<bool>());
        Assert.Equal("/etc/proxy/legacy-tokens", chart.Env(Proxy)["REQUESTS_PROXY_LEGACY_TOKENS_DIR"]);
        Assert.Equal("7", chart.Env(Proxy)["REQUESTS_PROXY_LEGACY_TOKENS_POLL_SECONDS"]);
        Assert.DoesNotContain("/etc/proxy/legacy-tokens/", chart.Mounts(JobsManager).Keys);
        Assert.Equal(Name, chart.Env(JobsManager)["LEGACY_TOKENS_CONFIGMAP_NAME"]);
        Assert.Equal("120", chart.Env(JobsManager)["JOBS_MANAGER_LEGACY_TOKEN_GRACE_SECONDS"]);
        Assert.Equal(stateless == "false", chart.Mounts(Proxy).ContainsKey("/etc/proxy/admin/"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Template_ExistingConfigMap_NotRenderedAndNamedByMountEnvAndRbac(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.legacyTokens.existingConfigMap=my-legacy", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}"]);

        Assert.Null(chart.Find("ConfigMap", Name));
        Assert.Null(chart.Find("ConfigMap", "my-legacy"));
        Assert.Equal(("configMap", "my-legacy"), chart.Mounts(Proxy)["/etc/proxy/legacy-tokens/"]);
        Assert.Equal("my-legacy", chart.Env(JobsManager)["LEGACY_TOKENS_CONFIGMAP_NAME"]);
        // Named in exactly one rule of all the jobs-manager's roles (the release namespace's), nowhere else.
        var rule = Assert.Single(chart.Objects.Where(o => o.Str("kind") is "Role" or "ClusterRole").SelectMany(o => o["rules"]!.AsArray()),
            r => r!["resourceNames"]?.AsArray().Any(n => n!.GetValue<string>() == "my-legacy") == true);
        Assert.Equal(["get", "update"], rule!["verbs"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["configmaps"], rule["resources"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Single(rule["resourceNames"]!.AsArray());
    }

    [Fact]
    public async Task Template_ValuesWithoutTheBlock_AsReuseValuesFromAnOlderChart_RendersTheDefaults()
    {
        // `helm upgrade --reuse-values` (the documented flip) reuses an older release's values, which lack the block; null removes it the same way.
        var chart = await _helm.TemplateAsync(["requestsProxy.legacyTokens=null", "requestsProxy.statelessTokens=true"]);

        Assert.NotNull(chart.Find("ConfigMap", Name));
        Assert.Equal(("configMap", Name), chart.Mounts(Proxy)["/etc/proxy/legacy-tokens/"]);
        Assert.Equal("10", chart.Env(Proxy)["REQUESTS_PROXY_LEGACY_TOKENS_POLL_SECONDS"]);
        Assert.Equal("300", chart.Env(JobsManager)["JOBS_MANAGER_LEGACY_TOKEN_GRACE_SECONDS"]);
    }

    [Theory]
    [InlineData("--set requestsProxy.legacyTokens.graceSeconds=0", "graceSeconds")]
    [InlineData("--set requestsProxy.legacyTokens.existingConfigMap=Not_A_Name", "existingConfigMap")]
    [InlineData("--set requestsProxy.legacyTokens.unknown=1", "unknown")]
    public async Task Template_InvalidValues_RefusedBySchema(string set, string mentioned)
    {
        var result = await _helm.TemplateRawAsync([set]);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains(mentioned, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRunServer_ExistingList_RenderedUnchanged()
    {
        _server.SeedConfigMap(HelmChart.Namespace, Name, new Dictionary<string, string> { ["legacy-tokens.json"] = ListJson },
            new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "Helm" },
            new Dictionary<string, string>
            {
                ["meta.helm.sh/release-name"] = HelmChart.Release,
                ["meta.helm.sh/release-namespace"] = HelmChart.Namespace,
                ["helm.sh/resource-policy"] = "keep",
            });
        var kubeconfig = _server.WriteKubeconfig(Path.Combine(_helm.Home, "kube"), HelmChart.Namespace);

        var result = await _helm.TemplateRawAsync(extra: ["--dry-run=server", "--disable-openapi-validation", "--kubeconfig", kubeconfig, "--set", "requestsProxy.statelessTokens=true"]);

        Assert.True(result.Succeeded, result.StandardError);
        var chart = new RenderedChart(result.StandardOutput, YamlJson.ParseDocuments(result.StandardOutput));
        Assert.Equal(ListJson, chart.Get("ConfigMap", Name).Str("data", "legacy-tokens.json"));
        Assert.Contains(_server.Requests, r => r is { Verb: "get", Resource: "configmaps", Name: Name });
    }
}
