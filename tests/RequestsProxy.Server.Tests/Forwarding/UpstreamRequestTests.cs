using System.Net;
using Microsoft.AspNetCore.Http;
using RequestsProxy.Server.Tests.Authentication;

namespace RequestsProxy.Server.Tests.Forwarding;

public sealed class UpstreamRequestTests
{
    [Fact]
    public async Task Forward_ReplacesPodAuthorizationWithUpstreamCredential()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Mint("job-1");

        using var response = await proxy.PostAsync("/v1/results", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = proxy.Upstream.Last!;
        Assert.Equal("Bearer " + ProxyHarness.Credential, seen.Header("Authorization"));
        Assert.DoesNotContain(seen.Headers.Values, v => v.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Forward_StripsInboundIdentityHeaders_AndSetsVerifiedOnes()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims(sub: "job-42", jti: "jti-42"));
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", token, "{}");
        request.Headers.TryAddWithoutValidation("X-Requests-Proxy-Subject", "job-admin");
        request.Headers.TryAddWithoutValidation("x-requests-proxy-jti", "forged");
        request.Headers.TryAddWithoutValidation("X-Requests-Proxy-Anything", "forged");
        request.Headers.TryAddWithoutValidation("X-Other", "kept");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = proxy.Upstream.Last!;
        Assert.Equal("job-42", seen.Header("X-Requests-Proxy-Subject"));
        Assert.Equal("jti-42", seen.Header("X-Requests-Proxy-Jti"));
        Assert.Null(seen.Header("X-Requests-Proxy-Anything"));
        Assert.Equal("kept", seen.Header("X-Other"));
    }

    [Fact]
    public async Task Forward_SubjectWithNonAsciiCharacters_IsPercentEncodedInHeader()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims(sub: "jöb\r\n1"));

        using var response = await proxy.PostAsync("/v1/results", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Uri.EscapeDataString("jöb\r\n1"), proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
    }

    [Fact]
    public async Task Forward_CredentialFileChanged_NewCredentialSentAfterPoll()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Mint("job-1");
        await File.WriteAllTextAsync(proxy.CredentialFile, "rotated-credential\n");

        var rotated = await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var response = await proxy.PostAsync("/v1/results", token);
            return proxy.Upstream.Last?.Header("Authorization") == "Bearer rotated-credential";
        }, TimeSpan.FromSeconds(4));

        Assert.True(rotated);
    }

    [Fact]
    public async Task Forward_NoCredentialConfigured_SendsNoAuthorization()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_UPSTREAM_CREDENTIAL_FILE"] = null);

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(proxy.Upstream.Last!.Header("Authorization"));
    }

    [Fact]
    public async Task Forward_CredentialFileMissing_Is503NotForwarded()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_UPSTREAM_CREDENTIAL_FILE"] = "/nonexistent/credential");

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Forward_DeclaredBodyOverLimit_Is413NotForwarded()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_BODY_BYTES"] = "1024");

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"), new string('x', 2000));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Forward_ChunkedBodyOverLimit_IsRefusedWith413()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_BODY_BYTES"] = "1024");
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"));
        request.Content = new StreamContent(new MemoryStream(new byte[64 * 1024]));
        request.Headers.TransferEncodingChunked = true;

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("body_too_large", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count); // the upstream saw an aborted request, never a complete one
    }

    [Fact]
    public async Task Forward_BodyUnderLimit_ArrivesIntact()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_BODY_BYTES"] = "4096");
        var body = "{\"data\":\"" + new string('y', 3000) + "\"}";

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"), body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, proxy.Upstream.Last!.BodyText);
    }

    [Fact]
    public async Task Forward_UpstreamSlowerThanTimeout_Is504()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_UPSTREAM_TIMEOUT_SECONDS"] = "0.5");
        proxy.Upstream.Handler = async context => await Task.Delay(TimeSpan.FromSeconds(3), context.RequestAborted);

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Forward_UpstreamStatusAndBody_AreRelayed()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        proxy.Upstream.Handler = async context =>
        {
            context.Response.StatusCode = 409;
            context.Response.Headers["X-Upstream"] = "1";
            await context.Response.WriteAsync("conflict");
        };

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("conflict", await response.Content.ReadAsStringAsync());
        Assert.True(response.Headers.Contains("X-Upstream"));
    }
}
