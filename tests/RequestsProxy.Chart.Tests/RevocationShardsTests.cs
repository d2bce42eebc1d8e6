namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The revocation list's shards: one ConfigMap each, created by the jobs-manager (never rendered),
/// named in RBAC, all projected <c>optional</c> into the proxy's folder, which waits for every one.
/// </summary>
public sealed class RevocationShardsTests : IDisposable
{
    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Default_SixteenShardsNotRenderedEachNamedInTheRoleAndProjectedOptionalAsItsOwnFile()
    {
        var chart = await _helm.TemplateAsync();
        string[] names = ["rel-requests-proxy-revoked", .. Enumerable.Range(1, 15).Select(i => $"rel-requests-proxy-revoked-{i}")];

        Assert.All(names, name => Assert.Null(chart.Find("ConfigMap", name)));

        var rule = Assert.Single(chart.Get("Role", "rel-jobs-manager")["rules"]!.AsArray(), r => r!["resourceNames"]?[0]?.GetValue<string>() == names[0])!;
        Assert.Equal(names, rule["resourceNames"]!.AsArray().Select(n => n!.GetValue<string>()));

        var volume = chart.PodSpec("rel-requests-proxy")["volumes"]!.AsArray().Single(v => v!.Str("name") == "revoked")!;
        var sources = volume["projected"]!["sources"]!.AsArray();
        Assert.Equal(names, sources.Select(s => s!.Str("configMap", "name")));
        Assert.Equal(["revoked.json", .. Enumerable.Range(1, 15).Select(i => $"revoked-{i}.json")],
            sources.Select(s => s!["configMap"]!["items"]![0]!.Str("path")));
        Assert.All(sources, s => Assert.Equal("revoked.json", s!["configMap"]!["items"]![0]!.Str("key")));
        Assert.All(sources, s => Assert.True(s!["configMap"]!["optional"]!.GetValue<bool>()));
        Assert.Equal("16", chart.Env("rel-jobs-manager")["REVOKED_CONFIGMAP_SHARDS"]);
        Assert.Equal("16", chart.Env("rel-requests-proxy")["REQUESTS_PROXY_REVOKED_SHARDS"]);
    }

    [Fact]
    public async Task Template_OneShard_TheSingleConfigMapLayout()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.revoked.shards=1"]);

        Assert.DoesNotContain(chart.Objects, o => o.Str("kind") == "ConfigMap" && o.Str("metadata", "name")!.StartsWith("rel-requests-proxy-revoked", StringComparison.Ordinal));
        Assert.Equal(("configMap", "rel-requests-proxy-revoked"), chart.Mounts("rel-requests-proxy")["/etc/proxy/revoked/"]);
        var volume = chart.PodSpec("rel-requests-proxy")["volumes"]!.AsArray().Single(v => v!.Str("name") == "revoked")!;
        Assert.True(volume["configMap"]!["optional"]!.GetValue<bool>());
        Assert.Equal("1", chart.Env("rel-requests-proxy")["REQUESTS_PROXY_REVOKED_SHARDS"]);
        Assert.Equal("1", chart.Env("rel-jobs-manager")["REVOKED_CONFIGMAP_SHARDS"]);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    public async Task Template_ShardsOutOfRange_RefusedBySchema(string shards)
    {
        var result = await _helm.TemplateRawAsync([$"requestsProxy.revoked.shards={shards}"]);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains("shards", result.StandardError, StringComparison.Ordinal);
    }
}
