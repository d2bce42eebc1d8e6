using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// docs/operations.md's GitOps section, followed literally: its shell block creates the objects
/// (run by bash with a recording <c>kubectl</c>), its values block points the chart at them. Every
/// Secret and ConfigMap the rendered pods mount must then exist, rendered by the chart or created
/// by the runbook — a missing one leaves the pods in ContainerCreating for ever. Optional ones are
/// the lists the jobs-manager creates (ConfigMapProvisionerTests).
/// </summary>
public sealed partial class GitOpsRunbookTests : IDisposable
{
    private readonly HelmChart _helm = new() { ReleaseName = "rp" };

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData(null)]
    [InlineData("requestsProxy.revoked.shards=4")]
    [InlineData("clusterScope=true")]
    public async Task Runbook_FollowedLiterally_EveryMountedObjectExists(string? set)
    {
        var section = Section(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "operations.md")), "## GitOps");
        var created = await CreatedObjectsAsync(Block(section, "sh"));
        var chart = await _helm.TemplateAsync(set is null ? [] : [set], Block(section, "yaml"), "--namespace", "ml");

        var rendered = chart.Objects.Where(o => o.Str("kind") is "Secret" or "ConfigMap").Select(o => $"{o.Str("kind")}/{o.Str("metadata", "name")}").ToHashSet();
        var missing = chart.OfKind("Deployment")
            .SelectMany(d => d["spec"]!["template"]!["spec"]!["volumes"]!.AsArray())
            .SelectMany(MountedObjects)
            .Where(o => !rendered.Contains(o) && !created.Contains(o))
            .Distinct()
            .ToList();

        Assert.True(missing.Count == 0, $"mounted but neither rendered nor created by the runbook: {string.Join(", ", missing)}");
    }

    private static IEnumerable<string> MountedObjects(JsonNode? volume)
    {
        if (volume.Str("secret", "secretName") is { } secret)
        {
            yield return $"Secret/{secret}";
        }

        // Optional volumes are the jobs-manager's lists (it creates them at start-up; the proxy waits for every file).
        if (volume.Str("configMap", "name") is { } map && volume?["configMap"]?["optional"]?.GetValue<bool>() != true)
        {
            yield return $"ConfigMap/{map}";
        }

        foreach (var source in volume?["projected"]?["sources"]?.AsArray() ?? [])
        {
            if (source?["configMap"]?["optional"]?.GetValue<bool>() == true || source?["secret"]?["optional"]?.GetValue<bool>() == true)
            {
                continue;
            }

            if (source.Str("configMap", "name") is { } m)
            {
                yield return $"ConfigMap/{m}";
            }

            if (source.Str("secret", "name") is { } s)
            {
                yield return $"Secret/{s}";
            }
        }
    }

    /// <summary>Runs the block with bash, <c>kubectl</c> replaced by a function that prints its arguments.</summary>
    private static async Task<HashSet<string>> CreatedObjectsAsync(string script)
    {
        var result = await ToolProcess.RunAsync("bash", ["-euc", "kubectl() { echo \"kubectl $*\"; }\n" + script], Path.GetTempPath());
        Assert.True(result.Succeeded, result.StandardError);
        return CreateLine().Matches(result.StandardOutput)
            .Select(m => $"{(m.Groups["kind"].Value == "configmap" ? "ConfigMap" : "Secret")}/{m.Groups["name"].Value}")
            .ToHashSet();
    }

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no '{heading}' in docs/operations.md");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
    }

    private static string Block(string section, string language)
    {
        var match = Regex.Match(section, $"```{language}\\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, $"no ```{language} block in the GitOps section");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"^kubectl .*?create (?:(?<kind>configmap)|secret generic) (?<name>[a-z0-9.-]+)", RegexOptions.Multiline)]
    private static partial Regex CreateLine();
}
