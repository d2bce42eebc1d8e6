using System.Net;
using RequestsProxy.Server.Forwarding;

namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>
/// Finding A9 of 2026-12-02: the proxy sent <c>X-Forwarded-Host</c> taken from the pod's
/// <c>Host</c> header and passed <c>X-Real-IP</c>, <c>Forwarded</c>, <c>X-Original-URL</c> … from the
/// pod through to the upstream, which may trust them. Every inbound header a proxy would assert is
/// removed; the proxy sets the forwarding headers from what it knows.
/// </summary>
public sealed class ForwardedHeadersTests
{
    /// <summary>One spelling of every name and prefix of the list in docs/proxy.md ("What goes upstream"), and some folded ones.</summary>
    public static TheoryData<string> ProxyAsserted => new(Names);

    private static readonly string[] Names =
    [
        // The client's address.
        "X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Client-IP", "Client-IP", "True-Client-IP", "CF-Connecting-IP",
        "CF-Connecting-IPv6", "Fastly-Client-IP", "X-Cluster-Client-IP", "X-ProxyUser-Ip", "X-Azure-ClientIP", "X-Azure-SocketIP",
        "X-Original-Forwarded-For", "X-Envoy-External-Address", "X-AppEngine-User-IP",
        // Scheme, host, port, prefix.
        "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server",
        "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Url-Scheme", "X-Scheme", "Front-End-Https", "X-Host", "X-Original-Host",
        "CF-Visitor",
        // Method and path.
        "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "X-Original-URL", "X-Original-URI", "X-Original-Path",
        "X-Original-Method", "X-Rewrite-URL", "X-Envoy-Original-Path", "X-Forwarded-Path", "X-Forwarded-Uri",
        // Users, groups and certificates.
        "Remote-User", "X-Remote-User", "X-Remote-Group", "X-Remote-Extra-Scopes", "X-Authenticated-User", "X-WEBAUTH-USER",
        "X-WEBAUTH-EMAIL", "X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
        "X-Forwarded-Access-Token", "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Access-Token",
        "X-MS-CLIENT-PRINCIPAL", "X-MS-CLIENT-PRINCIPAL-NAME", "X-Amzn-Oidc-Identity", "X-Amzn-Oidc-Data",
        "X-Goog-Authenticated-User-Email", "X-Goog-IAP-JWT-Assertion", "Cf-Access-Jwt-Assertion",
        "Cf-Access-Authenticated-User-Email", "Impersonate-User", "Impersonate-Group", "Impersonate-Uid",
        "Impersonate-Extra-Scopes", "X-Forwarded-Client-Cert", "X-Client-Cert", "X-SSL-Client-Cert", "X-SSL-Client-Verify",
        "SSL_CLIENT_S_DN", "X-Client-Verify", "X-Client-DN", "X-ARR-ClientCert", "X-SSL-Cert", "Proxy-Authorization",
        // Ours.
        "X-Requests-Proxy-Subject", "X-Requests-Proxy-Jti", "X-Requests-Proxy-Anything",
        // Folded spellings.
        "X_Real_IP", "x.forwarded.host", "X-Forwarded_For", "forwarded", "X_Requests_Proxy_Subject", "IMPERSONATE_USER",
    ];

    [Theory]
    [MemberData(nameof(ProxyAsserted))]
    public async Task Forward_ProxyAssertedHeaderFromThePod_NeverReachesTheUpstream(string name)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var marker = "pod-said-" + Guid.NewGuid().ToString("N");

        var response = await RawHttp.SendAsync(proxy.Address,
            $"POST /v1/results HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\n{name}: {marker}\r\nContent-Length: 0");

        Assert.Equal(200, response.Status);
        Assert.DoesNotContain(proxy.Upstream.Last!.Headers, h => h.Value.Contains(marker, StringComparison.Ordinal));
        Assert.True(ProxyAssertedHeaders.IsProxyAsserted(name), name);
    }

    [Fact]
    public async Task Forward_EveryProxyAssertedHeaderAtOnce_UpstreamSeesOnlyWhatTheProxyKnows()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var head = $"POST /v1/results HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nContent-Length: 0";
        foreach (var name in Names)
        {
            head += $"\r\n{name}: 10.6.6.6";
        }

        // RawHttp sends Host: proxy; the pod's Host must not come back as X-Forwarded-Host.
        var response = await RawHttp.SendAsync(proxy.Address, head);

        Assert.Equal(200, response.Status);
        var seen = proxy.Upstream.Last!;
        Assert.DoesNotContain(seen.Headers, h => h.Value.Contains("10.6.6.6", StringComparison.Ordinal));
        Assert.DoesNotContain(seen.Headers, h => h.Value.Contains("proxy", StringComparison.Ordinal) && h.Key != "X-Requests-Proxy-Subject");
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Equal("http", seen.Header("X-Forwarded-Proto"));
        Assert.Null(seen.Header("X-Forwarded-Host"));
        Assert.Null(seen.Header("X-Forwarded-Prefix"));
        Assert.Null(seen.Header("Forwarded"));
        Assert.Equal(proxy.Upstream.Address.Authority, seen.Header("Host"));
        Assert.Equal("job-1", seen.Header("X-Requests-Proxy-Subject"));
        Assert.Equal("Bearer " + ProxyHarness.Credential, seen.Header("Authorization"));
        Assert.DoesNotContain(seen.Headers, h => h.Key.StartsWith("X-Requests-Proxy-", StringComparison.OrdinalIgnoreCase)
            && h.Key is not ("X-Requests-Proxy-Subject" or "X-Requests-Proxy-Jti"));
    }

    [Theory]
    [InlineData("Idempotency-Key", "job-1/epoch-7")]
    [InlineData("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    [InlineData("X-Request-Id", "r-1")]
    [InlineData("User-Agent", "requests-proxy-client/1")]
    [InlineData("X-HTTP-Method-Overrides-Nothing", "kept")]
    [InlineData("X-Forwarder-Notes", "kept")]
    [InlineData("Via", "1.1 sidecar")]
    public async Task Forward_OrdinaryHeader_IsRelayedUntouched(string name, string value)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        var response = await RawHttp.SendAsync(proxy.Address,
            $"POST /v1/results HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\n{name}: {value}\r\nContent-Length: 0");

        Assert.Equal(200, response.Status);
        Assert.Contains(value, proxy.Upstream.Last!.Header(name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forward_RouteWithItsOwnXForwardedAppend_AppendsToNothingThePodSent()
    {
        // The operator's transform runs as configured, on a request already cleaned of the pod's values.
        await using var proxy = await ProxyHarness.StartAsync(routes: p => new
        {
            Routes = new Dictionary<string, object>
            {
                ["all"] = new
                {
                    ClusterId = "upstream",
                    Match = new { Path = "/{**catch-all}" },
                    Metadata = new Dictionary<string, string> { ["RequiredScope"] = "" },
                    Transforms = new[] { new Dictionary<string, string> { ["X-Forwarded"] = "Append", ["HeaderPrefix"] = "X-Forwarded-" } },
                },
            },
            Clusters = p.UpstreamCluster(),
        });
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("127.0.0.1", proxy.Upstream.Last!.Header("X-Forwarded-For"));
        Assert.DoesNotContain("evil.example", proxy.Upstream.Last!.Header("X-Forwarded-Host") ?? "", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-Requests-Proxy-Subject", "job-2")]
    [InlineData("X-Requests-Proxy-Jti", "someone-elses-jti")]
    public async Task Forward_IdentityHeaderFromThePod_UpstreamSeesOnlyTheVerifiedOne(string name, string value)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation(name, value);

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = proxy.Upstream.Last!;
        Assert.Equal("job-1", seen.Header("X-Requests-Proxy-Subject"));
        Assert.NotNull(seen.Header("X-Requests-Proxy-Jti"));
        Assert.DoesNotContain(value, seen.Header(name), StringComparison.Ordinal);
        Assert.DoesNotContain(",", seen.Header(name), StringComparison.Ordinal);
    }
}
