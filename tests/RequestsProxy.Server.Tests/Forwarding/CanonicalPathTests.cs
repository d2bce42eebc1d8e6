using RequestsProxy.Server.Forwarding;

namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>
/// Finding A4 of 2026-12-02: the <c>sub</c> binding missed format suffixes and encodings
/// (<c>/v1/jobs/other-job/results.json</c>, <c>…/results%2Ejson</c>). A path is relayed only in its
/// one canonical spelling, judged against every bound pattern with format suffixes, and the
/// upstream receives exactly the path that was judged.
/// </summary>
public sealed class CanonicalPathTests
{
    /// <summary>Another job's paths (the caller is job-1), each refused whatever scope the token holds, and never relayed.</summary>
    [Theory]
    // As found.
    [InlineData("POST", "/v1/jobs/job-2/results.json", 403)]
    [InlineData("POST", "/v1/jobs/job-2/results%2Ejson", 403)]
    // Format suffixes and case.
    [InlineData("POST", "/v1/jobs/job-2/results%2ejson", 403)]
    [InlineData("POST", "/v1/jobs/job-2/results.xml/", 403)]
    [InlineData("POST", "/v1/jobs/job-2/results.json/extra", 403)]
    [InlineData("POST", "/v1/jobs/job-2/RESULTS.Json", 403)]
    [InlineData("POST", "/V1/JOBS/job-2/RESULTS", 403)]
    [InlineData("POST", "/v1/jobs.json/job-2/results", 403)]
    [InlineData("POST", "/v1/jobs/job-2.json/results", 403)]
    [InlineData("POST", "/v1/jobs/JOB-1/results", 403)]
    [InlineData("GET", "/v1/jobs/job-2/flops.csv", 403)]
    // Custom methods (finding C4: an AIP-136 upstream maps them to job-2's results).
    [InlineData("POST", "/v1/jobs/job-2/results:batchCreate", 403)]
    [InlineData("POST", "/v1/jobs/job-2/results:.json", 403)]
    // Trailing slash.
    [InlineData("POST", "/v1/jobs/job-2/results/", 403)]
    // Path parameters.
    [InlineData("POST", "/v1/jobs/job-2/results;x=1", 404)]
    [InlineData("POST", "/v1/jobs/job-2;x/results", 404)]
    [InlineData("POST", "/v1/jobs;a=b/job-2/results", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%3Bx", 404)]
    // Empty segments.
    [InlineData("POST", "//v1/jobs/job-2/results", 404)]
    [InlineData("POST", "/v1/jobs//job-2/results", 404)]
    [InlineData("POST", "/v1/jobs/job-2//results", 404)]
    // Encoded separators and double encoding.
    [InlineData("POST", "/v1/jobs/job-2%2Fresults", 404)]
    [InlineData("POST", "/v1/jobs%2fjob-2%2fresults", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%252F", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%5Cx", 404)]
    [InlineData("POST", "/v1/jobs/job-1%2F..%2Fjob-2/results", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%25", 404)]
    // Dot segments, raw and encoded, and trailing dots.
    [InlineData("POST", "/v1/jobs/job-1/../job-2/results", 404)]
    [InlineData("POST", "/v1/jobs/job-1/%2E%2E/job-2/results", 404)]
    [InlineData("POST", "/v1/jobs/job-1/%2e./job-2/results", 404)]
    [InlineData("POST", "/v1/jobs/job-2/./results", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results.", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%2E", 404)]
    [InlineData("POST", "/v1/jobs/job-2./results", 404)]
    // What ends a path or a segment for some reader, and what Windows servers trim.
    [InlineData("POST", "/v1/jobs/job-2/results%3Fx=1", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%23", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%00", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%20", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%09", 404)]
    [InlineData("POST", "/v1/jobs/job-2/results%C3%A9", 404)]
    // Absolute-form targets are judged on their path the same way.
    [InlineData("POST", "http://proxy/v1/jobs/job-2/results.json", 403)]
    [InlineData("POST", "http://proxy//v1/jobs/job-2/results", 404)]
    public async Task Request_AnotherJobsPathInAnySpelling_IsRefusedAndNeverRelayed(string method, string target, int status)
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: SubjectBindingTests.RoutesWithCatchAll);

        foreach (var scope in new[] { "", "results:write flops:write" })
        {
            var response = await RawHttp.SendAsync(proxy.Address,
                $"{method} {target} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1", scope)}\r\nContent-Length: 0");

            // Kestrel itself answers 400 to some targets before the proxy sees them: refused all the same.
            Assert.True(response.Status == status || response.Status == 400, $"{method} {target} with scope '{scope}': {response.Text}");
            if (response.Status == 404)
            {
                Assert.Contains("\"error_description\":\"non_canonical_path\"", response.Text, StringComparison.Ordinal);
            }
        }

        Assert.Equal(0, proxy.Upstream.Count);
    }

    /// <summary>The paths clients send, each relayed byte for byte: the upstream's request target is the pod's.</summary>
    [Theory]
    [InlineData("POST", "/v1/jobs/job-1/results")]
    [InlineData("POST", "/v1/jobs/job-1/results?epoch=3&x=%2F")]
    [InlineData("POST", "/v1/jobs/job-1/results/")]
    [InlineData("POST", "/v1/jobs/job-1/results.json")]
    [InlineData("GET", "/v1/jobs/job-1/flops")]
    [InlineData("GET", "/v1/jobs/job-2/status")]
    [InlineData("GET", "/v1/models/resnet-50_v1.2")]
    [InlineData("GET", "/v1/x/a~b!$&'()*+,=:@c")]
    [InlineData("GET", "/.well-known/openid-configuration")]
    [InlineData("GET", "/")]
    public async Task Request_CanonicalPath_IsRelayedUnchanged(string method, string target)
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: SubjectBindingTests.RoutesWithCatchAll);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"{method} {target} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1", "results:write flops:write")}\r\nContent-Length: 0");

        Assert.True(response.Status == 200, response.Text);
        Assert.Equal(target, proxy.Upstream.Last!.RawTarget);
    }

    [Theory]
    // An unneeded escape of a character that needs none is the same path: judged decoded, and sent decoded.
    [InlineData("/v1/jobs/job-1/results%2Ejson", "/v1/jobs/job-1/results.json")]
    [InlineData("/v1/jobs/%6Aob-1/results", "/v1/jobs/job-1/results")]
    [InlineData("http://proxy/v1/jobs/job-1/results", "/v1/jobs/job-1/results")]
    public async Task Request_UnneededEscape_IsJudgedAndRelayedAsTheOnePathItDecodesTo(string target, string relayed)
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: SubjectBindingTests.RoutesWithCatchAll);

        var response = await RawHttp.SendAsync(proxy.Address,
            $"POST {target} HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1", "results:write")}\r\nContent-Length: 0");

        Assert.True(response.Status == 200, response.Text);
        Assert.Equal(relayed, proxy.Upstream.Last!.RawTarget);
        Assert.DoesNotContain('%', proxy.Upstream.Last!.RawTarget);
    }

    [Theory]
    [InlineData("/v1/jobs/job-1/results", "/v1/jobs/job-1/results", true)]
    [InlineData("/v1/jobs/job-1/results/", "/v1/jobs/job-1/results/", true)]
    [InlineData("/", "/", true)]
    [InlineData("/v1/a%41b", "/v1/aAb", true)]
    [InlineData("/v1/a%41b", "/v1/a%41b", false)]
    [InlineData("/v1/a/../b", "/v1/b", false)]
    [InlineData("/v1/a", "/v1/a/", false)]
    [InlineData("/v1/a%2", "/v1/a%2", false)]
    [InlineData("/v1/a%zz", "/v1/a%zz", false)]
    [InlineData("v1/a", "v1/a", false)]
    [InlineData("", "", false)]
    public void Matches_SentAndRoutedPath_IsCanonicalOnlyWhenOneDecodeGivesTheRoutedPath(string sent, string routed, bool expected) =>
        Assert.Equal(expected, CanonicalPath.Matches(sent, routed));

    [Theory]
    [InlineData("/a/b?q=1", "/a/b")]
    [InlineData("http://h:80/a/b?q", "/a/b")]
    [InlineData("http://h", "/")]
    [InlineData("http://h?q", "/")]
    [InlineData("*", "")]
    [InlineData("h:443", "")]
    public void PathOf_RequestTarget_IsItsPathPart(string target, string path) =>
        Assert.Equal(path, CanonicalPath.PathOf(target).ToString());

    [Theory]
    [InlineData("results", "results", true)]
    [InlineData("RESULTS", "results", true)]
    [InlineData("results.json", "results", true)]
    [InlineData("results.", "results", true)]
    [InlineData("resultsx", "results", false)]
    [InlineData("result", "results", false)]
    [InlineData(".results", "results", false)]
    public void LiteralMatches_FormatSuffix_CountsAsTheLiteral(string segment, string literal, bool expected) =>
        Assert.Equal(expected, BoundPattern.LiteralMatches(segment, literal));
}
