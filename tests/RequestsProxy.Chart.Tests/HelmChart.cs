using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// Runs the real helm against deploy/charts/requests-proxy. Each instance owns a temp folder for
/// helm's cache/config/data homes and any values file, so tests run in parallel.
/// </summary>
internal sealed class HelmChart : IDisposable
{
    public const string Release = "rel";
    public const string Namespace = "jobs";

    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("chart-tests-");

    public static string ChartPath => Path.Combine(RepositoryRoot.Path, "deploy", "charts", "requests-proxy");

    public string Home => _home.FullName;

    public async Task<ToolResult> RunAsync(params string[] arguments)
    {
        var helm = await HelmBinary.GetPathAsync();
        var environment = new Dictionary<string, string>
        {
            ["HELM_CACHE_HOME"] = Path.Combine(Home, "cache"),
            ["HELM_CONFIG_HOME"] = Path.Combine(Home, "config"),
            ["HELM_DATA_HOME"] = Path.Combine(Home, "data"),
            // Never the machine's own cluster: a test that needs one passes --kubeconfig.
            ["KUBECONFIG"] = Path.Combine(Home, "no-kubeconfig"),
        };
        return await ToolProcess.RunAsync(helm, arguments, Home, environment, TimeSpan.FromMinutes(2));
    }

    /// <summary><c>helm template</c> with <c>--set</c> pairs and an optional values file; fails the test on error.</summary>
    public async Task<RenderedChart> TemplateAsync(IEnumerable<string>? sets = null, string? valuesYaml = null, params string[] extra)
    {
        var result = await TemplateRawAsync(sets, valuesYaml, extra);
        Assert.True(result.Succeeded, $"helm template failed ({result.ExitCode}): {result.StandardError}");
        return new RenderedChart(result.StandardOutput, YamlJson.ParseDocuments(result.StandardOutput));
    }

    public Task<ToolResult> TemplateRawAsync(IEnumerable<string>? sets = null, string? valuesYaml = null, params string[] extra)
    {
        var arguments = new List<string> { "template", Release, ChartPath, "--namespace", Namespace };
        foreach (var set in sets ?? [])
        {
            arguments.Add(set.StartsWith("--", StringComparison.Ordinal) ? set.Split(' ', 2)[0] : "--set");
            arguments.Add(set.StartsWith("--", StringComparison.Ordinal) ? set.Split(' ', 2)[1] : set);
        }

        if (valuesYaml is not null)
        {
            var file = Path.Combine(Home, $"values-{Guid.NewGuid():N}.yaml");
            File.WriteAllText(file, valuesYaml);
            arguments.Add("--values");
            arguments.Add(file);
        }

        arguments.AddRange(extra);
        return RunAsync([.. arguments]);
    }

    public void Dispose() => _home.Delete(recursive: true);
}
