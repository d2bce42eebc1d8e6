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

    /// <summary>An upstream URL every render gets first (the chart refuses to render without one); a test's own sets override it.</summary>
    public const string Upstream = "http://upstream.test";

    public string Home => _home.FullName;

    /// <summary>False: render with the chart's own defaults only, no <see cref="Upstream"/>.</summary>
    public bool WithUpstream { get; init; } = true;

    /// <summary>More environment for helm (e.g. <c>HELM_DRIVER</c>).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>The release name <c>helm template</c> renders (default <see cref="Release"/>).</summary>
    public string ReleaseName { get; init; } = Release;

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
        foreach (var (name, value) in Environment)
        {
            environment[name] = value;
        }

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
        var arguments = new List<string> { "template", ReleaseName, ChartPath, "--namespace", Namespace };
        if (WithUpstream)
        {
            // A values file, not --set: the test's own values files and sets must win over it.
            var defaults = Path.Combine(Home, "upstream-values.yaml");
            File.WriteAllText(defaults, $"requestsProxy:\n  upstream:\n    url: {Upstream}\n");
            arguments.AddRange(["--values", defaults]);
        }

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
