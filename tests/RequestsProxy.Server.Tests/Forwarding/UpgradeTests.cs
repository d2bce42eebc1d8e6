namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>Finding 3 of issue 10: an upgrade request never changes the method the upstream sees.</summary>
public sealed class UpgradeTests
{
    private static object Routes(ProxyHarness proxy) => new
    {
        Routes = new Dictionary<string, object>
        {
            ["results"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/jobs/{sub}/results", Methods = new[] { "POST" } },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "", ["SubjectParameter"] = "sub" },
            },
            ["stream"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/jobs/{sub}/stream", Methods = new[] { "GET" } },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "", ["SubjectParameter"] = "sub", ["AllowUpgrade"] = "true" },
            },
            ["post-stream"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/jobs/{sub}/post-stream", Methods = new[] { "POST" } },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "", ["SubjectParameter"] = "sub", ["AllowUpgrade"] = "true" },
            },
        },
        Clusters = proxy.UpstreamCluster(),
    };

    [Theory]
    // As found: a body-less POST with Upgrade: websocket reached a POST-only route's upstream as GET.
    [InlineData("POST", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13")]
    // More spellings.
    [InlineData("POST", "Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13")]
    [InlineData("POST", "Upgrade: websocket\r\nConnection: upgrade")]
    [InlineData("POST", "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA")]
    [InlineData("POST", "Upgrade: spdy/3.1\r\nConnection: Upgrade")]
    [InlineData("POST", "Upgrade: websocket")]
    public async Task Upgrade_OnARouteThatDoesNotOptIn_IsRefusedAndNeverRelayed(string method, string headers)
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"{method} /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\n{headers}");

        Assert.Equal(400, response.Status);
        Assert.Contains("upgrade_not_allowed", response.Text, StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Upgrade_OnAnOptedInRouteThatDoesNotAllowGet_IsRefused()
    {
        // The upstream would see a GET (YARP relays a WebSocket handshake as GET): a method the route does not allow.
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"POST /v1/jobs/job-1/post-stream HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13");

        Assert.Equal(400, response.Status);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Upgrade_GetOnAnOptedInRoute_IsRelayedAsGet()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        await RawHttp.SendAsync(proxy.Address,
            $"GET /v1/jobs/job-1/stream HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13");

        var seen = await proxy.Upstream.WaitForAsync(_ => true, TimeSpan.FromSeconds(5));
        Assert.Equal("GET", seen.Method);
        Assert.Equal("/v1/jobs/job-1/stream", seen.Path);
    }

    [Fact]
    public async Task Post_WithoutUpgrade_OnThePostRoute_IsRelayedAsPost()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"POST /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nContent-Length: 2", "{}"u8.ToArray());

        Assert.Equal(200, response.Status);
        Assert.Equal("POST", proxy.Upstream.Last!.Method);
    }
}
