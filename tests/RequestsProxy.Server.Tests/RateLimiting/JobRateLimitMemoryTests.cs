using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.RateLimiting;
using RequestsProxy.Server.Tests.Authentication;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.Tests.RateLimiting;

/// <summary>
/// GC readings are process-wide: this collection runs alone, after every parallel test has
/// finished (the 429 metrics are read on the host's own meter factory, so they run in parallel).
/// </summary>
[CollectionDefinition(nameof(JobRateLimitMemoryTests), DisableParallelization = true)]
[Collection(nameof(JobRateLimitMemoryTests))]
public sealed class JobRateLimitMemoryTests
{
    [Fact]
    public async Task RefuseOverLimit_100000SubsTwice_PartitionsDroppedOnceIdleAndMemoryStaysAtOnePeak()
    {
        var values = new Dictionary<string, string?>
        {
            ["REQUESTS_PROXY_UPSTREAM"] = "http://127.0.0.1:1/",
            [RateLimitNames.RequestsPerSecondVariable] = "1",
            [RateLimitNames.BurstVariable] = "1",
        };
        await using var app = ProxyHarness.BuildProxy(values);
        var limiter = app.Services.GetRequiredService<JobRateLimiter>();
        var route = new RouteConfig { RouteId = "r", ClusterId = "c", Match = new RouteMatch { Path = "/r" } };
        const int subs = 100_000;

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var first = Wave(limiter, route, "a", subs) - baseline;

        // Refilled within a second, then idle for ten: the partitioned limiter drops them. Its
        // dictionary keeps its capacity (about a quarter of the peak), which the next wave reuses.
        long left = first;
        var dropped = await ProxyAuthenticationTests.EventuallyAsync(() =>
        {
            left = GC.GetTotalMemory(forceFullCollection: true) - baseline;
            return Task.FromResult(left < first * 4 / 10);
        }, TimeSpan.FromSeconds(40));
        var second = Wave(limiter, route, "b", subs) - baseline;

        Assert.True(first > 4_000_000, $"{subs} partitions took only {first} bytes: the measurement is off");
        Assert.True(dropped, $"{subs} partitions took {first / 1024} KiB and {left / 1024} KiB were still held after 40 s");
        Assert.True(second < first * 5 / 4, $"a second wave of {subs} new subs grew the heap to {second / 1024} KiB (first wave {first / 1024} KiB)");
    }

    /// <summary>One request each for <paramref name="count"/> new subs; returns the heap size with all their partitions alive.</summary>
    private static long Wave(JobRateLimiter limiter, RouteConfig route, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Null(limiter.RefuseOverLimit(new DefaultHttpContext(), route, new CallerIdentity($"job-{prefix}-{i:D6}", null, [])));
        }

        // The last one is over its limit right now: its partition is alive.
        Assert.NotNull(limiter.RefuseOverLimit(new DefaultHttpContext { Response = { Body = new MemoryStream() } }, route,
            new CallerIdentity($"job-{prefix}-{count - 1:D6}", null, [])));
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
