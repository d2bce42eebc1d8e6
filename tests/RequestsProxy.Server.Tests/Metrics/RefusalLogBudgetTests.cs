using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.Tests.Metrics;

/// <summary>
/// Found by the outside attack: every refusal (no valid token needed) wrote an Information line,
/// so one pod sending forged tokens wrote 4 000–7 000 log lines a second.
/// </summary>
public sealed class RefusalLogBudgetTests
{
    [Fact]
    public void TryTake_OverTheBudget_LeavesLinesOutAndReportsThemWithTheNextWritten()
    {
        var time = new FakeTimeProvider();
        var budget = new RefusalLogBudget(time, perSecond: 3);

        var written = Enumerable.Range(0, 10).Count(i => budget.TryTake(out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(budget.TryTake(out var suppressed));

        Assert.Equal(3, written);
        Assert.Equal(7, suppressed);
        Assert.Equal(7, budget.TotalSuppressed);
        Assert.True(budget.TryTake(out var none));
        Assert.Equal(0, none);
    }

    [Theory]
    // As found: forged tokens (bad signature), each a 401.
    [InlineData("bad_signature")]
    // More refusals a pod can cause at will: another job's path (403), a reserved path (404).
    [InlineData("subject_mismatch")]
    [InlineData("reserved_path")]
    public async Task Refusals_FloodFromOnePod_OneLineInTheBudgetTheRestCountedInMetrics(string kind)
    {
        var budget = new RefusalLogBudget(new FakeTimeProvider(), perSecond: 1);
        await using var proxy = await ProxyHarness.StartAsync(routes: Forwarding.SubjectBindingTests.RoutesWithCatchAll,
            builder: b => b.Services.AddSingleton(budget));
        var token = proxy.Mint("job-1", "results:write");
        var forged = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");

        for (var i = 0; i < 25; i++)
        {
            var head = kind switch
            {
                "bad_signature" => $"POST /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {forged}",
                "subject_mismatch" => $"POST /v1/jobs/job-2/results HTTP/1.1\r\nAuthorization: Bearer {token}",
                _ => $"GET /admin/v1/tokens HTTP/1.1\r\nAuthorization: Bearer {token}",
            };
            var response = await RawHttp.SendAsync(proxy.Address, head + "\r\nContent-Length: 0");
            Assert.True(response.Status is 401 or 403 or 404, response.Text);
        }

        Assert.Equal(24, budget.TotalSuppressed);
        Assert.Contains($"reason=\"{kind}\"", await proxy.MetricsAsync(), StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
    }
}
