using System.Net;

namespace RequestsProxy.Server.Tests.Authentication;

public sealed class RouteAuthorizationTests
{
    internal static object Routes(ProxyHarness proxy) => new
    {
        Routes = new Dictionary<string, object>
        {
            ["results"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/jobs/{sub}/results" },
                Metadata = new Dictionary<string, string>
                {
                    ["RequiredScope"] = "results:write",
                    ["SubjectParameter"] = "sub",
                    ["UpstreamCredentialFile"] = proxy.CredentialFile,
                },
            },
            ["flops"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/flops" },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "flops:write" },
            },
        },
        Clusters = proxy.UpstreamCluster(),
    };

    [Fact]
    public async Task Route_TokenWithScopeAndOwnSub_IsForwarded()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        using var response = await proxy.PostAsync("/v1/jobs/job-7/results", proxy.Mint("job-7", "results:write"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/v1/jobs/job-7/results", proxy.Upstream.Last!.Path);
    }

    [Fact]
    public async Task Route_TokenWithoutRequiredScope_Is403InsufficientScope()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        using var response = await proxy.PostAsync("/v1/flops", proxy.Mint("job-7", "results:write"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Bearer error=\"insufficient_scope\", error_description=\"missing_scope\", scope=\"flops:write\"",
            Assert.Single(response.Headers.GetValues("WWW-Authenticate")));
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Route_TokenOfAnotherJob_Is403SubjectMismatch()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        using var response = await proxy.PostAsync("/v1/jobs/job-8/results", proxy.Mint("job-7", "results:write"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("Bearer error=\"insufficient_scope\", error_description=\"subject_mismatch\"",
            Assert.Single(response.Headers.GetValues("WWW-Authenticate")));
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Route_InvalidTokenOnScopedRoute_Is401NotA403()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        using var response = await proxy.PostAsync("/v1/flops", "garbage");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Route_PathMatchingNoRoute_Is404AndNeverForwarded()
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: Routes);

        using var response = await proxy.PostAsync("/v1/other", proxy.Mint("job-7"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, proxy.Upstream.Count);
    }
}
