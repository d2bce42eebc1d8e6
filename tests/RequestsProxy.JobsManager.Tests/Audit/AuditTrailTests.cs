using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Audit;

/// <summary>The audit trail: who started, stopped, refreshed and revoked what (sub, jti, kid, caller).</summary>
public sealed class AuditTrailTests
{
    [Fact]
    public async Task StartAndStop_OverTheApi_NamesJobTokenKidAndCaller()
    {
        var log = new FakeLogCollector();
        await using var host = await ApiHost.StartAsync(configureBuilder: b =>
        {
            b.Logging.AddProvider(new FakeLoggerProvider(log));
            b.Logging.AddFilter(JobAudit.Category, LogLevel.Information);
        });
        host.Client.DefaultRequestHeaders.Add(JobsApiClient.ActorHeader, "alice@laptop");

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var jti = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetProperty("jti").GetString()!;
        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);

        var lines = Audit(log);
        Assert.Equal(
            [
                $"audit start: job job-1 got token {jti} (kid v1, expires {Expires(lines[0])}) by api 127.0.0.1 as alice@laptop",
                $"audit revoke (stop): job job-1, 1 tokens [{jti}] (kids v1) by api 127.0.0.1 as alice@laptop",
            ],
            lines.Select(r => r.Message));
        Assert.Equal("job-1", lines[0].StructuredState!.Single(p => p.Key == "Sub").Value);
        Assert.Equal(jti, lines[0].StructuredState!.Single(p => p.Key == "Jti").Value);
    }

    [Fact]
    public async Task Call_WrongOrNoAdminToken_RefusalIsAudited()
    {
        var log = new FakeLogCollector();
        await using var host = await ApiHost.StartAsync(configureBuilder: b =>
        {
            b.Logging.AddProvider(new FakeLoggerProvider(log));
            b.Logging.AddFilter(JobAudit.Category, LogLevel.Information);
        });
        using var anonymous = new HttpClient { BaseAddress = host.BaseAddress };
        // HTTP keeps line breaks out of a header; tabs, spaces and length are the caller's to choose.
        anonymous.DefaultRequestHeaders.TryAddWithoutValidation(JobsApiClient.ActorHeader, "mallory\t by admin " + new string('x', 500));

        using var none = await anonymous.DeleteAsync("/v1/jobs/job-1");
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "guess");
        using var wrong = await anonymous.DeleteAsync("/v1/jobs/job-2");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var lines = Audit(log);
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(LogLevel.Warning, l.Level));
        Assert.StartsWith("audit refused: /v1/jobs/job-1 (no bearer token) by api 127.0.0.1 as mallory", lines[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("audit refused: /v1/jobs/job-2 (not the admin token) by api 127.0.0.1 as mallory", lines[1].Message, StringComparison.Ordinal);
        // The actor is the caller's word: kept printable, on one line, and bounded.
        Assert.All(lines, l => Assert.DoesNotContain('\t', l.Message));
        Assert.All(lines, l => Assert.DoesNotContain(" by admin", l.Message, StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.Message.Length < 300, l.Message));
    }

    [Fact]
    public async Task MaintenanceWork_RefreshRotationAndFinished_CallerIsTheJobsManager()
    {
        using var h = new CoreHarness();
        var runtime = (InMemoryJobRuntime)h.Runtime;
        var first = (await h.StartAsync("job-1")).Token!.Jti;
        h.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await h.Manager.RefreshAsync(CancellationToken.None));
        var second = h.Manager.Get("job-1")!.Token!.Jti;
        runtime.States["job-1"] = JobState.Failed;
        await h.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(1, await h.Manager.RevokeFinishedAsync(CancellationToken.None));

        var lines = Audit(h.AuditLog);
        Assert.Equal(3, lines.Count);
        Assert.StartsWith($"audit start: job job-1 got token {first} (kid v1,", lines[0].Message, StringComparison.Ordinal);
        Assert.StartsWith($"audit refresh: job job-1 got token {second} (kid v1,", lines[1].Message, StringComparison.Ordinal);
        Assert.Equal($"audit revoke (finished): job job-1, 2 tokens [{first},{second}] (kids v1) by {AuditCaller.Self}", lines[2].Message);
        Assert.All(lines, l => Assert.EndsWith($"by {AuditCaller.Self}", l.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stop_UnknownJob_AuditedAsNothingRevoked()
    {
        using var h = new CoreHarness();
        using (AuditCaller.Begin("api 10.0.0.7"))
        {
            Assert.True((await h.Manager.StopAsync("ghost", CancellationToken.None)).Succeeded);
        }

        Assert.Equal("audit stop: job ghost is not known here; deleted from the runtime, nothing revoked, by api 10.0.0.7",
            Assert.Single(Audit(h.AuditLog)).Message);
        Assert.Equal(AuditCaller.Self, AuditCaller.Current);
    }

    private static List<FakeLogRecord> Audit(FakeLogCollector log) =>
        [.. log.GetSnapshot().Where(r => r.Category == JobAudit.Category)];

    // The expiry is the clock's: read it back rather than predict the formatting.
    private static string Expires(FakeLogRecord line) =>
        line.StructuredState!.Single(p => p.Key == "ExpiresAt").Value!;
}
