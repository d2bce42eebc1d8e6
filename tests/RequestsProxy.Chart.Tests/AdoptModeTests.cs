namespace RequestsProxy.Chart.Tests;

/// <summary>
/// jobsManager.adopt.enabled: the jobs-manager's switch, and no right beyond what the job namespaces'
/// Role grants anyway (Jobs list and watch, Secrets create and update).
/// </summary>
public sealed class AdoptModeTests : IDisposable
{
    private const string JobsManager = "rel-jobs-manager";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Default_AdoptOff()
    {
        var chart = await _helm.TemplateAsync();

        Assert.Equal("false", chart.Env(JobsManager)["JOBS_MANAGER_ADOPT"]);
    }

    [Fact]
    public async Task Template_AdoptEnabled_FlagSetAndNoMoreRights()
    {
        var plain = await _helm.TemplateAsync();
        var chart = await _helm.TemplateAsync(["jobsManager.adopt.enabled=true"]);

        Assert.Equal("true", chart.Env(JobsManager)["JOBS_MANAGER_ADOPT"]);
        Assert.Contains("watch", JobVerbs(chart));
        Assert.Contains("list", JobVerbs(chart));
        Assert.Equal(JobVerbs(plain), JobVerbs(chart));
        Assert.Equal(Secrets(plain), Secrets(chart));
        Assert.DoesNotContain("patch", Secrets(chart));
    }

    /// <summary>Every verb any Role or ClusterRole of the chart grants on batch Jobs.</summary>
    private static List<string> JobVerbs(RenderedChart chart) => [.. Rules(chart, "batch", "jobs").Order(StringComparer.Ordinal)];

    private static List<string> Secrets(RenderedChart chart) => [.. Rules(chart, "", "secrets").Order(StringComparer.Ordinal)];

    private static IEnumerable<string> Rules(RenderedChart chart, string apiGroup, string resource) =>
        from role in chart.Objects.Where(o => o.Str("kind") is "Role" or "ClusterRole")
        from rule in role["rules"]!.AsArray()
        where rule!["apiGroups"]!.AsArray().Any(g => g!.GetValue<string>() == apiGroup) && rule["resources"]!.AsArray().Any(r => r!.GetValue<string>() == resource)
        from verb in rule["verbs"]!.AsArray()
        select verb!.GetValue<string>();
}
