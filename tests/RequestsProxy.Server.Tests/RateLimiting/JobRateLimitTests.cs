using Microsoft.AspNetCore.Http;
using System.Net;
using System.Text.Json;
using RequestsProxy.Server.RateLimiting;

namespace RequestsProxy.Server.Tests.RateLimiting;

public sealed class JobRateLimitTests
{
    private static Action<Dictionary<string, string?>> Limits(string? rate = null, string? burst = null, string? concurrent = null) => s =>
    {
        s[RateLimitNames.RequestsPerSecondVariable] = rate;
        s[RateLimitNames.BurstVariable] = burst;
        s[RateLimitNames.ConcurrentVariable] = concurrent;
    };

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
                    [RateLimitNames.RequestsPerSecondMetadata] = "0.5",
                    [RateLimitNames.BurstMetadata] = "2",
                },
            },
            ["status"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/status" },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "", [RateLimitNames.RequestsPerSecondMetadata] = "0" },
            },
            ["flops"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/flops" },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "" },
            },
        },
        Clusters = proxy.UpstreamCluster(),
    };

    private static async Task<List<HttpStatusCode>> PostManyAsync(ProxyHarness proxy, string path, string token, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await proxy.PostAsync(path, token);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    [Fact]
    public async Task Request_OverTheBurst_Is429WithRetryAfterAndJsonBody()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(rate: "0.2", burst: "3"));
        var token = proxy.Mint("job-1");

        var statuses = await PostManyAsync(proxy, "/v1/results", token, 3);
        using var refused = await proxy.PostAsync("/v1/results", token);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        // 0.2/s: the next token is up to 5 s away.
        Assert.InRange(retryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.Equal("application/json", refused.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("too_many_requests", body.RootElement.GetProperty("error").GetString());
        Assert.Equal("rate_limited", body.RootElement.GetProperty("error_description").GetString());
        Assert.Equal((int)retryAfter.Value.TotalSeconds, body.RootElement.GetProperty("retry_after").GetInt32());
        Assert.Equal(3, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Request_AnotherJobFlooding_OwnBucketUntouched()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(rate: "1", burst: "2"));
        var flooding = await PostManyAsync(proxy, "/v1/results", proxy.Mint("job-flood"), 20);
        var neighbour = await PostManyAsync(proxy, "/v1/results", proxy.Mint("job-calm"), 2);

        Assert.Equal(18, flooding.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.All(neighbour, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task Request_SameJobNewToken_SameBucket()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(rate: "0.1", burst: "2"));
        var first = await PostManyAsync(proxy, "/v1/results", proxy.Mint("job-1"), 2);
        // A refreshed token (new jti) is the same job: the share is per sub, not per token.
        using var refreshed = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.All(first, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, refreshed.StatusCode);
    }

    [Fact]
    public async Task Request_BucketRefills_AcceptedAgain()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(rate: "5", burst: "1"));
        var token = proxy.Mint("job-1");
        (await proxy.PostAsync("/v1/results", token)).Dispose();
        using var refused = await proxy.PostAsync("/v1/results", token);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);

        var accepted = await Authentication.ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var response = await proxy.PostAsync("/v1/results", token);
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(3));
        Assert.True(accepted, "a 5/s bucket did not refill within 3 s");
    }

    /// <summary>
    /// Found by the outside attack: beside a catch-all, <c>//v1/jobs/job-1/results</c> matched the
    /// catch-all and spent the catch-all's share, so a job doubled its rate on its own results. That
    /// spelling is now refused as non-canonical (A4); the spellings a canonical path still allows are tried here.
    /// </summary>
    [Theory]
    // More spellings the catch-all matches instead of the bound route (the ambiguous ones, such as
    // "//v1/…", ";x=1" or "results.", are refused as non-canonical before any limit: CanonicalPathTests).
    [InlineData("/v1/jobs/job-1/results.json")]
    [InlineData("/v1/jobs/job-1/results/")]
    [InlineData("/v1/jobs/job-1/results/extra")]
    public async Task Request_BoundPathSpelledForTheCatchAll_SpendsTheBoundRoutesShare(string spelling)
    {
        await using var proxy = await ProxyHarness.StartAsync(routes: p => new
        {
            Routes = new Dictionary<string, object>
            {
                ["results"] = new
                {
                    ClusterId = "upstream",
                    Match = new { Path = "/v1/jobs/{sub}/results", Methods = new[] { "POST" } },
                    Metadata = new Dictionary<string, string>
                    {
                        ["RequiredScope"] = "results:write",
                        ["SubjectParameter"] = "sub",
                        [RateLimitNames.RequestsPerSecondMetadata] = "0.1",
                        [RateLimitNames.BurstMetadata] = "2",
                    },
                },
                ["catch-all"] = new
                {
                    ClusterId = "upstream",
                    Match = new { Path = "/{**catch-all}" },
                    Metadata = new Dictionary<string, string> { ["RequiredScope"] = "", [RateLimitNames.RequestsPerSecondMetadata] = "0" },
                },
            },
            Clusters = p.UpstreamCluster(),
        });
        var token = proxy.Mint("job-1", "results:write");

        var canonical = await PostManyAsync(proxy, "/v1/jobs/job-1/results", token, 2);
        var spelled = await RawHttp.SendAsync(proxy.Address, $"POST {spelling} HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0");
        var other = await RawHttp.SendAsync(proxy.Address, $"POST /v1/other HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0");

        Assert.All(canonical, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(spelled.Status == 429, spelled.Text);
        // The catch-all's own paths keep the catch-all's (here: no) limits.
        Assert.Equal(200, other.Status);
        Assert.Equal(3, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Request_RouteOverrides_ReplaceTheDefaults()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(rate: "1", burst: "4"), routes: Routes);
        var token = proxy.Mint("job-1", "results:write");

        var results = await PostManyAsync(proxy, "/v1/jobs/job-1/results", token, 3);  // 0.5/s, burst 2
        var status = await PostManyAsync(proxy, "/v1/status", token, 10);              // off
        var flops = await PostManyAsync(proxy, "/v1/flops", token, 5);                 // the defaults: burst 4

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], results);
        Assert.All(status, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(4, flops.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, flops[^1]);
    }

    [Fact]
    public async Task Request_OverConcurrencyLimit_429ThenAcceptedOnceOneFinishes()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(concurrent: "1"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        proxy.Upstream.Handler = async context =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await context.Response.WriteAsync("ok");
        };
        var token = proxy.Mint("job-1");

        var slow = proxy.PostAsync("/v1/results", token);
        await proxy.Upstream.WaitForAsync(_ => true, TimeSpan.FromSeconds(5));
        using var second = await proxy.PostAsync("/v1/results", token);
        var otherJob = proxy.PostAsync("/v1/results", proxy.Mint("job-2")).ContinueWith(t => t.Result.StatusCode, TaskScheduler.Default);
        release.SetResult();
        using var first = await slow;
        using var third = await proxy.PostAsync("/v1/results", token);

        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("1", second.Headers.GetValues("Retry-After").Single());
        Assert.Contains("concurrency_limited", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await otherJob);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public async Task Request_InvalidTokens_NotCountedAgainstAnyJob()
    {
        await using var proxy = await ProxyHarness.StartAsync(Limits(rate: "0.1", burst: "1"));
        var bad = await PostManyAsync(proxy, "/v1/results", "not-a-token", 5);
        var forged = await PostManyAsync(proxy, "/v1/results", proxy.Forge(new { alg = "HS256", kid = "v1" }, ProxyHarness.Claims("job-1"), key: new byte[32]), 5);
        using var valid = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        // Limits apply after authentication: an unverified sub cannot spend a job's share.
        Assert.All(bad.Concat(forged), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task Request_NoLimitsConfigured_NeverLimited()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var statuses = await PostManyAsync(proxy, "/v1/results", proxy.Mint("job-1"), 50);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Theory]
    [InlineData(RateLimitNames.RequestsPerSecondVariable, "fast")]
    [InlineData(RateLimitNames.RequestsPerSecondVariable, "-1")]
    [InlineData(RateLimitNames.BurstVariable, "0")]
    [InlineData(RateLimitNames.BurstVariable, "1.5")]
    [InlineData(RateLimitNames.ConcurrentVariable, "-2")]
    public void Build_InvalidDefault_RefusedNamingTheVariable(string variable, string value)
    {
        var values = new Dictionary<string, string?>
        {
            ["REQUESTS_PROXY_UPSTREAM"] = "http://127.0.0.1:1/",
            ["REQUESTS_PROXY_RATE_LIMIT_PER_SECOND"] = "1",
            [variable] = value,
        };

        var error = Assert.Throws<RequestsProxy.Settings.InvalidSettingsException>(() => ProxyHarness.BuildProxy(values));

        Assert.Contains($"{variable}: '{value}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_InvalidRouteLimit_RefusedNamingTheRoute()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var routes = proxy.Folder.Combine("bad-limits.json");
        await File.WriteAllTextAsync(routes, """
            {"ReverseProxy": {
              "Routes": {"r": {"ClusterId": "c", "Match": {"Path": "/r"}, "Metadata": {"RequiredScope": "", "RateLimitPerSecond": "lots", "ConcurrencyLimit": "x"}}},
              "Clusters": {"c": {"Destinations": {"d": {"Address": "http://127.0.0.1:1/"}}}}
            }}
            """);
        var values = new Dictionary<string, string?> { ["REQUESTS_PROXY_ROUTES_FILE"] = routes };

        var error = Assert.ThrowsAny<Exception>(() => ProxyHarness.BuildProxy(values));

        var text = error.ToString();
        Assert.Contains("route 'r': Metadata.RateLimitPerSecond: 'lots'", text, StringComparison.Ordinal);
        Assert.Contains("route 'r': Metadata.ConcurrencyLimit: 'x'", text, StringComparison.Ordinal);
    }
}
