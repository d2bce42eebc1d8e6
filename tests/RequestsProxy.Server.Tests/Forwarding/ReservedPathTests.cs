namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>Finding 5 of issue 10: nothing under <c>/admin/v1</c> is ever relayed, however it is spelled.</summary>
public sealed class ReservedPathTests
{
    [Theory]
    // As found, beside a catch-all route.
    [InlineData("GET", "/admin/v1/tokens")]
    [InlineData("GET", "/admin/v1/other")]
    [InlineData("GET", "/admin/v1/subjects/job-2")]
    // More spellings of the prefix.
    [InlineData("PUT", "/admin/v1/tokens")]
    [InlineData("POST", "/admin/v1/subjects/job-2")]
    [InlineData("GET", "/admin/v1")]
    [InlineData("GET", "/admin/v1/")]
    [InlineData("POST", "//admin/v1/tokens")]
    [InlineData("POST", "/ADMIN/V1/tokens")]
    [InlineData("POST", "/admin/v1;x=1/tokens")]
    [InlineData("POST", "/admin%2Fv1%2Ftokens")]
    [InlineData("POST", "/admin/v1./tokens")]
    [InlineData("DELETE", "/admin//v1/subjects/job-2")]
    // Found by the outside attack: a decoded '?' or '#' ends the path for a hop that re-parses it.
    [InlineData("GET", "/admin/v1%3Fx/tokens")]
    [InlineData("GET", "/admin/v1%23/tokens")]
    [InlineData("GET", "/admin/v1%253F")]
    [InlineData("GET", "/metrics%3F")]
    [InlineData("GET", "/readyz#")]
    [InlineData("GET", "/healthz%23x")]
    public async Task AdminPrefix_BesideACatchAll_Is404AndNeverRelayed(string method, string path)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        var response = await RawHttp.SendAsync(proxy.Address,
            $"{method} {path} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nContent-Length: 0");

        Assert.Equal(404, response.Status);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/v2/tokens")]
    [InlineData("/administrator/v1/tokens")]
    public async Task PathsBesideThePrefix_AreRelayed(string path)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        var response = await RawHttp.SendAsync(proxy.Address,
            $"GET {path} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}");

        Assert.Equal(200, response.Status);
        Assert.Equal(path, proxy.Upstream.Last!.Path);
    }
}
