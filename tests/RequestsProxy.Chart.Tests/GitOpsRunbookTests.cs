using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
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

    /// <summary>Where the runbook's shell block runs (it writes the webhook's CA and pair there).</summary>
    private readonly string _workDirectory = Directory.CreateTempSubdirectory("gitops-runbook-").FullName;

    public void Dispose()
    {
        _helm.Dispose();
        Directory.Delete(_workDirectory, recursive: true);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("requestsProxy.revoked.shards=4")]
    [InlineData("clusterScope=true")]
    public async Task Runbook_FollowedLiterally_EveryMountedObjectExists(string? set)
    {
        var (section, created) = await FollowRunbookAsync();
        var chart = await _helm.TemplateAsync(set is null ? [] : [set], Block(section, "yaml"), "--namespace", "ml", "--set-file", $"secretAdmission.webhook.tls.caBundle={CaFile}");

        var rendered = chart.Objects.Where(o => o.Str("kind") is "Secret" or "ConfigMap").Select(o => $"{o.Str("kind")}/{o.Str("metadata", "name")}").ToHashSet();
        var missing = chart.OfKind("Deployment")
            .SelectMany(d => d["spec"]!["template"]!["spec"]!["volumes"]!.AsArray())
            .SelectMany(MountedObjects)
            .Where(o => !rendered.Contains(o) && !created.Contains(o))
            .Distinct()
            .ToList();

        Assert.True(missing.Count == 0, $"mounted but neither rendered nor created by the runbook: {string.Join(", ", missing)}");
    }

    /// <summary>
    /// A GitOps tool renders on every refresh: the runbook's values must render the same manifests
    /// each time (a chart-generated webhook pair would be new on each render, the A7 finding), and the
    /// pair the runbook issues must be one the apiserver accepts for the webhook Service.
    /// </summary>
    [Fact]
    public async Task Runbook_FollowedLiterally_RendersTheSameManifestsEachTime_WithAWebhookPairTheApiserverAccepts()
    {
        var (section, _) = await FollowRunbookAsync();
        string[] extra = ["--namespace", "ml", "--set-file", $"secretAdmission.webhook.tls.caBundle={CaFile}"];
        var first = await _helm.TemplateAsync(null, Block(section, "yaml"), extra);
        var second = await _helm.TemplateAsync(null, Block(section, "yaml"), extra);

        Assert.Equal(first.Yaml, second.Yaml);
        Assert.DoesNotContain(first.Objects, o => o.Str("kind") == "Secret" && o.Str("metadata", "name") == "rp-webhook-tls");
        var webhooks = first.OfKind("ValidatingWebhookConfiguration").SelectMany(c => c["webhooks"]!.AsArray()).ToList();
        Assert.NotEmpty(webhooks);
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(CaFile));
        foreach (var webhook in webhooks)
        {
            var bundle = Encoding.ASCII.GetString(Convert.FromBase64String(webhook.Str("clientConfig", "caBundle")!));
            using var trusted = X509Certificate2.CreateFromPem(bundle);
            Assert.Equal(ca.Thumbprint, trusted.Thumbprint);
        }

        using var serving = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(_workDirectory, "webhook.crt")));
        Assert.True(serving.MatchesHostname("rp-requests-proxy-webhook.ml.svc"), serving.Subject);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        Assert.True(chain.Build(serving), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    private string CaFile => Path.Combine(_workDirectory, "webhook-ca.crt");

    private async Task<(string Section, HashSet<string> Created)> FollowRunbookAsync()
    {
        var section = Section(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "operations.md")), "## GitOps");
        return (section, await CreatedObjectsAsync(Block(section, "sh"), _workDirectory));
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
    private static async Task<HashSet<string>> CreatedObjectsAsync(string script, string directory)
    {
        var result = await ToolProcess.RunAsync("bash", ["-euc", "kubectl() { echo \"kubectl $*\"; }\n" + script], directory);
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
