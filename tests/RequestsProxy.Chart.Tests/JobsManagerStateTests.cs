using System.Text.Json;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The jobs-manager's state ConfigMap (its ledger of live jobs and their unexpired jtis):
/// rendered empty on first install, kept on uninstall, named by the env and the RBAC, or the
/// operator's own with <c>jobsManager.state.existingConfigMap</c>. (Upgrades: LookupPreservationTests.)
/// </summary>
public sealed class JobsManagerStateTests : IDisposable
{
    private const string StateName = "rel-jobs-manager-state";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_FirstInstall_EmptyLedgerKeptOnUninstall()
    {
        var chart = await _helm.TemplateAsync();

        var state = chart.Get("ConfigMap", StateName);
        Assert.Equal(HelmChart.Namespace, state.Str("metadata", "namespace"));
        Assert.Equal("keep", state.Str("metadata", "annotations", "helm.sh/resource-policy"));
        Assert.Equal("jobs-manager-state", state.Str("metadata", "labels", "app.kubernetes.io/component"));
        Assert.Equal(["jobs.json"], state["data"]!.AsObject().Select(p => p.Key));
        using var ledger = JsonDocument.Parse(state.Str("data", "jobs.json")!);
        Assert.Equal(1, ledger.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(0, ledger.RootElement.GetProperty("jobs").GetArrayLength());
    }

    [Fact]
    public async Task Template_Default_JobsManagerIsOneRecreatedPodNamingTheState()
    {
        var chart = await _helm.TemplateAsync();

        var deployment = chart.Get("Deployment", "rel-jobs-manager");
        Assert.Equal("Recreate", deployment.Str("spec", "strategy", "type"));
        Assert.Equal(StateName, chart.Env("rel-jobs-manager")["JOBS_MANAGER_STATE_CONFIGMAP_NAME"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Template_ExistingConfigMap_NotRenderedAndNamedByEnvAndRbac(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync(["jobsManager.state.existingConfigMap=my-ledger", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}"]);

        Assert.Null(chart.Find("ConfigMap", StateName));
        Assert.Null(chart.Find("ConfigMap", "my-ledger"));
        Assert.Equal("my-ledger", chart.Env("rel-jobs-manager")["JOBS_MANAGER_STATE_CONFIGMAP_NAME"]);
        var role = chart.Get("Role", "rel-jobs-manager");
        var rule = Assert.Single(role["rules"]!.AsArray(), r => r!["resourceNames"]?.AsArray().Any(n => n!.GetValue<string>() == "my-ledger") == true);
        Assert.Equal(["get", "update"], rule!["verbs"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["configmaps"], rule["resources"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Single(rule["resourceNames"]!.AsArray());
    }
}
