namespace RequestsProxy.Chart.Tests;

/// <summary>values.schema.json rejects wrong types, bad numbers and unknown keys.</summary>
public sealed class SchemaTests : IDisposable
{
    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData("--set-string requestsProxy.statelessTokens=true", "statelessTokens")]
    [InlineData("--set requestsProxy.statelessTokens=1", "statelessTokens")]
    [InlineData("--set requestsProxy.tokenTtlSeconds=-1", "tokenTtlSeconds")]
    [InlineData("--set requestsProxy.tokenTtlSeconds=0", "tokenTtlSeconds")]
    [InlineData("--set-string requestsProxy.tokenTtlSeconds=3600", "tokenTtlSeconds")]
    [InlineData("--set requestsProxy.tokenTtlSeconds=1.5", "tokenTtlSeconds")]
    [InlineData("--set-string clusterScope=false", "clusterScope")]
    [InlineData("--set requestsProxy.replicas=-1", "replicas")]
    [InlineData("--set requestsProxy.keys.existingSecret=Not_A_Name", "existingSecret")]
    [InlineData("--set requestsProxy.image.pullPolicy=Sometimes", "pullPolicy")]
    [InlineData("--set requestsProxy.bogus=1", "bogus")]
    [InlineData("--set bogus=1", "bogus")]
    [InlineData("--set networkPolicy.enabled=maybe", "enabled")]
    [InlineData("--set jobsManager.replicas=2", "replicas")]
    [InlineData("--set jobsManager.state.existingConfigMap=Not_A_Name", "existingConfigMap")]
    [InlineData("--set jobsManager.state.bogus=1", "bogus")]
    [InlineData("--set-string jobsManager.podPolicy.allowTolerateAll=true", "allowTolerateAll")]
    [InlineData("--set jobsManager.podPolicy.allowControlPlaneNodes=1", "allowControlPlaneNodes")]
    public async Task Template_InvalidValue_Rejected(string set, string mentioned)
    {
        var result = await _helm.TemplateRawAsync([set]);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains(mentioned, result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("requestsProxy:\n  tokenTtlSeconds: -86400\n", "tokenTtlSeconds")]
    [InlineData("requestsProxy:\n  routes:\n    - name: results\n      path: /v1/results\n", "requiredScope")]
    [InlineData("requestsProxy:\n  routes:\n    - name: Results\n      path: /v1/results\n      requiredScope: results:write\n", "name")]
    [InlineData("requestsProxy:\n  routes:\n    - name: r\n      path: /v1/r\n      requiredScope: a:b\n      extra: 1\n", "extra")]
    public async Task Template_InvalidValuesFile_Rejected(string values, string mentioned)
    {
        var result = await _helm.TemplateRawAsync(valuesYaml: values);

        Assert.False(result.Succeeded, result.StandardOutput);
        Assert.Contains(mentioned, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_RouteWithoutAnyUpstream_FailsWithAClearMessage()
    {
        using var helm = new HelmChart { WithUpstream = false };
        var result = await helm.TemplateRawAsync(valuesYaml: "requestsProxy:\n  routes:\n    - name: results\n      path: /v1/results\n      requiredScope: results:write\n");

        Assert.False(result.Succeeded);
        Assert.Contains("requestsProxy.upstream.url", result.StandardError, StringComparison.Ordinal);
    }
}
