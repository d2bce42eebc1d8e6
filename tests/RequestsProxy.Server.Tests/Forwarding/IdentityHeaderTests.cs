using System.Net;
using System.Text;

namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>
/// Findings 2 and 6 of issue 10: no inbound spelling of our identity headers reaches the upstream,
/// and the upstream can tell every two different subs apart.
/// </summary>
public sealed class IdentityHeaderTests
{
    [Theory]
    // As found: WSGI/CGI fold '_' into '-', so the app read "job-2,job-1".
    [InlineData("X_Requests_Proxy_Subject")]
    // More spellings a common server folds into ours (nginx underscores_in_headers, CGI's HTTP_*, Apache's non-alphanumerics).
    [InlineData("x_requests_proxy_jti")]
    [InlineData("X-Requests_Proxy-Subject")]
    [InlineData("X_REQUESTS_PROXY_SUBJECT")]
    [InlineData("X.Requests.Proxy.Subject")]
    [InlineData("X-Requests-Proxy_Subject")]
    [InlineData("X__Requests--Proxy-Subject")]
    public async Task Forward_IdentityHeaderSpelledAnotherWay_IsStripped(string name)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation(name, "job-2");
        request.Headers.TryAddWithoutValidation("X_Other_Header", "kept");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = proxy.Upstream.Last!;
        Assert.DoesNotContain(seen.Headers, h => h.Value.Contains("job-2", StringComparison.Ordinal));
        Assert.Equal("job-1", seen.Header("X-Requests-Proxy-Subject"));
        Assert.Equal("kept", seen.Header("X_Other_Header"));
    }

    [Theory]
    // As found: both arrived as job%C3%A91; the trailing space was lost by header parsing.
    [InlineData("jobé1", "job%C3%A91")]
    [InlineData("job-1 ", "job-1")]
    // More pairs the old encoding merged or that a header cannot carry verbatim.
    [InlineData("job 1", "job%201")]
    [InlineData(" job-1", "job-1")]
    [InlineData("job-1,job-2", "job-1")]
    [InlineData("job-1\t", "job-1")]
    [InlineData("a%2Fb", "a/b")]
    public async Task Forward_TwoDifferentSubs_ReachTheUpstreamAsTwoDifferentHeaders(string first, string second)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        var seen = new List<string>();
        foreach (var sub in new[] { first, second })
        {
            var token = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims(sub: sub));
            using var response = await proxy.PostAsync("/v1/results", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var header = proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject")!;
            // The documented encoding decodes back to the signed sub.
            Assert.Equal(sub, Uri.UnescapeDataString(header));
            seen.Add(header);
        }

        Assert.NotEqual(seen[0], seen[1]);
    }

    [Theory]
    [InlineData("job-1")]
    [InlineData("training-job-42")]
    [InlineData("Job_1.v2~x")]
    public async Task Forward_SubOfUnreservedCharacters_IsSentAsIs(string sub)
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.PostAsync("/v1/results", proxy.Mint(sub));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(sub, proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
    }

    [Theory]
    [InlineData("X_Forwarded_For")]
    [InlineData("X-Forwarded_Host")]
    [InlineData("x.forwarded.proto")]
    public async Task Forward_ForwardedHeaderSpelledWithOtherSeparators_IsStripped(string name)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation(name, "10.6.6.6");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = proxy.Upstream.Last!;
        Assert.DoesNotContain(seen.Headers, h => h.Value.Contains("10.6.6.6", StringComparison.Ordinal));
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
    }

    /// <summary>
    /// Found by the outside attack: a POST-only route relayed <c>X-HTTP-Method-Override: DELETE</c>,
    /// and <c>X-Original-URL</c> naming another job's path, to upstream frameworks that act on them.
    /// </summary>
    [Theory]
    // As found.
    [InlineData("X-HTTP-Method-Override", "DELETE")]
    [InlineData("X-Original-URL", "/v1/jobs/job-2/results")]
    // More spellings and their siblings.
    [InlineData("X_HTTP_Method_Override", "DELETE")]
    [InlineData("x-http-method", "PUT")]
    [InlineData("X-Method-Override", "DELETE")]
    [InlineData("X-Rewrite-URL", "/v1/jobs/job-2/results")]
    [InlineData("x_original_url", "/v1/jobs/job-2/results")]
    [InlineData("X-Envoy-Original-Path", "/v1/jobs/job-2/results")]
    [InlineData("X-Forwarded-Path", "/v1/jobs/job-2/results")]
    public async Task Forward_MethodOrPathOverrideHeader_IsStripped(string name, string value)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation(name, value);
        request.Headers.TryAddWithoutValidation("X-HTTP-Method-Overrides-Nothing", "kept");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = proxy.Upstream.Last!;
        Assert.Equal("POST", seen.Method);
        Assert.DoesNotContain(seen.Headers, h => h.Value.Contains(value, StringComparison.Ordinal));
        Assert.Equal("kept", seen.Header("X-HTTP-Method-Overrides-Nothing"));
    }

    [Fact]
    public async Task Forward_SubThatIsNotWellFormedUnicode_Is401NotRelayed()
    {
        // A lone surrogate has no UTF-8 form: percent-encoding would turn it into U+FFFD, the same as the sub "a\ufffdb".
        // The verifier calls such a token malformed.
        await using var proxy = await ProxyHarness.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // Written by hand: a serializer would replace the lone surrogate with U+FFFD before signing.
        var token = ForgeRaw(proxy, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"v1\"}",
            $$"""{"iss":"jobs-manager","aud":"requests-proxy","sub":"a\ud800b","jti":"j1","exp":{{now + 600}},"scope":"results:write"}""");

        using var response = await proxy.PostAsync("/v1/results", token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"malformed\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, proxy.Upstream.Count);
    }

    private static string ForgeRaw(ProxyHarness proxy, string header, string payload)
    {
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header)) + "." + Base64Url(Encoding.UTF8.GetBytes(payload));
        var key = Encoding.UTF8.GetBytes(proxy.Keys.Files[proxy.Keys.Active].Trim());
        return signingInput + "." + Base64Url(System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
