using System.Net;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Server.Tests.Forwarding;

public sealed class ProxyRoutesTests
{
    [Fact]
    public void Build_RouteWithoutRequiredScopeOrWithBadSubjectParameter_FailsListingEveryError()
    {
        using var folder = new TempFolder();
        var routes = folder.Combine("routes.json");
        File.WriteAllText(routes, """
            {"ReverseProxy": {
              "Routes": {
                "a": {"ClusterId": "c", "Match": {"Path": "/a"}},
                "b": {"ClusterId": "c", "Match": {"Path": "/b/{job}"}, "Metadata": {"RequiredScope": "x", "SubjectParameter": "sub", "UpstreamCredentialFile": "relative/path"}}
              },
              "Clusters": {"c": {"Destinations": {"d": {"Address": "http://127.0.0.1:1/"}}}}
            }}
            """);

        var error = Assert.ThrowsAny<Exception>(() => ProxyHarness.BuildProxy(Settings(folder, routes)));

        var text = error.ToString();
        Assert.Contains("route 'a': Metadata.RequiredScope is required", text, StringComparison.Ordinal);
        Assert.Contains("'sub' is not a parameter of '/b/{job}'", text, StringComparison.Ordinal);
        Assert.Contains("must be an absolute path", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_BareSectionRoutesFile_IsAccepted()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var routes = proxy.Folder.Combine("bare.json");
        await File.WriteAllTextAsync(routes, """
            {"Routes": {"open": {"ClusterId": "c", "Match": {"Path": "/open/{**rest}"}, "Metadata": {"RequiredScope": ""}}},
             "Clusters": {"c": {"Destinations": {"d": {"Address": "UPSTREAM"}}}}}
            """.Replace("UPSTREAM", proxy.Upstream.Address.ToString(), StringComparison.Ordinal));
        var values = Settings(proxy.Folder, routes);
        values[EnvironmentVariables.KeysDirectory] = proxy.Keys.Path;
        await proxy.RestartAsync(values);

        using var response = await proxy.PostAsync("/open/x", proxy.Mint("job-1", scope: ""));
        using var outside = await proxy.PostAsync("/elsewhere", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, outside.StatusCode);
    }

    [Fact]
    public void Build_NoRoutesAndNoUpstream_FailsWithClearMessage()
    {
        using var folder = new TempFolder();
        var values = Settings(folder, routes: null);
        values.Remove(EnvironmentVariables.Upstream);

        var error = Assert.Throws<InvalidSettingsException>(() => ProxyHarness.BuildProxy(values));

        Assert.Contains("no routes", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Settings(TempFolder folder, string? routes) => new()
    {
        [EnvironmentVariables.KeysDirectory] = folder.Combine("keys"),
        [EnvironmentVariables.RevokedDirectory] = folder.Combine("revoked"),
        [EnvironmentVariables.RoutesFile] = routes,
        [EnvironmentVariables.Upstream] = "http://127.0.0.1:1/",
    };
}
