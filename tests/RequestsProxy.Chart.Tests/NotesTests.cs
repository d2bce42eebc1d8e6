namespace RequestsProxy.Chart.Tests;

/// <summary>NOTES.txt, rendered by a client-side install dry run (no cluster).</summary>
public sealed class NotesTests : IDisposable
{
    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task InstallDryRun_Legacy_NotesExplainHowToFlip()
    {
        var notes = await NotesAsync();

        Assert.Contains("--set requestsProxy.statelessTokens=true", notes, StringComparison.Ordinal);
        Assert.Contains("rel-requests-proxy-keys", notes, StringComparison.Ordinal);
        Assert.Contains("http://rel-requests-proxy.jobs.svc:8888", notes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallDryRun_Stateless_NoFlipHint()
    {
        var notes = await NotesAsync("--set", "requestsProxy.statelessTokens=true");

        Assert.Contains("stateless", notes, StringComparison.Ordinal);
        Assert.DoesNotContain("--set requestsProxy.statelessTokens=true", notes, StringComparison.Ordinal);
    }

    private async Task<string> NotesAsync(params string[] arguments)
    {
        var result = await _helm.RunAsync(["install", HelmChart.Release, HelmChart.ChartPath, "--namespace", HelmChart.Namespace, "--dry-run=client", "--set", "requestsProxy.upstream.url=" + HelmChart.Upstream, .. arguments]);
        Assert.True(result.Succeeded, result.StandardError);
        var index = result.StandardOutput.IndexOf("NOTES:", StringComparison.Ordinal);
        Assert.True(index >= 0, result.StandardOutput);
        return result.StandardOutput[index..];
    }
}
