namespace RequestsProxy.Chart.Tests;

public sealed class LintTests : IDisposable
{
    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData("")]
    [InlineData("clusterScope=true,requestsProxy.statelessTokens=true")]
    [InlineData("requestsProxy.keys.existingSecret=k,networkPolicy.enabled=false,requestsProxy.podDisruptionBudget.enabled=false")]
    [InlineData("requestsProxy.upstream.url=https://edge.example,requestsProxy.upstream.credential.value=s3cret")]
    [InlineData("monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true")]
    public async Task Lint_Strict_Clean(string sets)
    {
        // The chart refuses to render without an upstream (ChartDefaultsTests); every lint names one.
        string[] arguments = ["--set", "requestsProxy.upstream.url=" + HelmChart.Upstream, .. sets.Length == 0 ? Array.Empty<string>() : ["--set", sets]];
        var result = await _helm.RunAsync(["lint", "--strict", HelmChart.ChartPath, .. arguments]);

        Assert.True(result.Succeeded, result.StandardOutput + result.StandardError);
        Assert.Contains("0 chart(s) failed", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("[WARNING]", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("[ERROR]", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_EveryValueDocumented()
    {
        // helm-docs style: every leaf, and every map that is a value itself (resources, selectors),
        // has a `# --` comment right above it; plain section keys need none.
        var lines = File.ReadAllLines(Path.Combine(HelmChart.ChartPath, "values.yaml"));
        var undocumented = new List<string>();
        var insideDocumentedMap = -1;
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (trimmed.Length == 0 || trimmed.StartsWith('#') || trimmed.StartsWith('-'))
            {
                continue;
            }

            var indent = Indent(lines[i]);
            if (insideDocumentedMap >= 0 && indent > insideDocumentedMap)
            {
                continue;
            }

            insideDocumentedMap = -1;
            var documented = lines.Take(i).Reverse().TakeWhile(l => l.TrimStart().StartsWith('#'))
                .Any(l => l.TrimStart().StartsWith("# --", StringComparison.Ordinal) && Indent(l) == indent);
            if (trimmed.EndsWith(':'))
            {
                insideDocumentedMap = documented ? indent : -1;
                continue;
            }

            if (!documented)
            {
                undocumented.Add(trimmed);
            }
        }

        Assert.Empty(undocumented);
    }

    private static int Indent(string line) => line.Length - line.TrimStart().Length;
}
