namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The jobs-manager's state ConfigMap (its ledger of live jobs and their unexpired jtis): never
/// rendered (the jobs-manager creates it at start-up), named by the env and the RBAC, or another
/// name with <c>jobsManager.state.existingConfigMap</c>.
/// </summary>
public sealed class JobsManagerStateTests : IDisposable
{
    private const string StateName = "rel-jobs-manager-state";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_FirstInstall_LedgerNotRendered_NamedInTheRole()
    {
        var chart = await _helm.TemplateAsync();

        Assert.Null(chart.Find("ConfigMap", StateName));
        var rule = Assert.Single(chart.Get("Role", "rel-jobs-manager")["rules"]!.AsArray(), r => r!["resourceNames"]?.AsArray().Any(n => n!.GetValue<string>() == StateName) == true);
        Assert.Equal(["get", "update"], rule!["verbs"]!.AsArray().Select(v => v!.GetValue<string>()));
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
