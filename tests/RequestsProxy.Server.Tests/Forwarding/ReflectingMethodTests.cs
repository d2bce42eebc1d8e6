namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>
/// Finding A1 of the 2026-12-02 attack: a TRACE on the catch-all reached an upstream that reflects
/// TRACE (Apache's default), and the answer carried the Authorization header the proxy had added —
/// the platform's credential, in the training pod's hands. TRACE and TRACK are never relayed.
/// </summary>
public sealed class ReflectingMethodTests
{
    private static object Routes(ProxyHarness proxy) => new
    {
        Routes = new Dictionary<string, object>
        {
            // A route that names TRACE itself: still refused.
            ["debug"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/debug", Methods = new[] { "GET", "TRACE" } },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "" },
            },
            ["all"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/{**rest}" },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "" },
            },
        },
        Clusters = proxy.UpstreamCluster(),
    };

    [Theory]
    [InlineData("TRACE", "/anything")]
    [InlineData("trace", "/anything")]
    [InlineData("TRACK", "/anything")]
    [InlineData("Track", "/v1/jobs/job-1/results")]
    [InlineData("TRACE", "/debug")]
    public async Task ReflectingMethod_WithAValidToken_Is405AndNeverRelayed(string method, string path)
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"{method} {path} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}");

        Assert.Equal(405, response.Status);
        Assert.Contains("method_never_relayed", response.Text, StringComparison.Ordinal);
        Assert.Contains("Allow: GET, HEAD, POST", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ProxyHarness.Credential, response.Text, StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task OrdinaryMethods_OnTheSameRoutes_AreStillRelayed()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"GET /debug HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}");

        Assert.Equal(200, response.Status);
        Assert.Equal(1, proxy.Upstream.Count);
    }
}
