using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The product's promise on the real process: several jobs post continuously while the proxy is
/// SIGKILLed and restarted, the key is rotated and one job is revoked. No valid token is refused.
/// </summary>
public sealed class ProxyRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Stateless_KillRestartRotateRevoke_NoValidTokenEverRefused()
    {
        await using var scenario = await ProxyScenario.CreateAsync(stateless: true);
        var firstReady = await scenario.StartProxyAsync();
        var jobs = Enumerable.Range(1, 4).Select(i => new JobClient($"job-{i}", scenario.Address, scenario.Mint($"job-{i}"))).ToList();
        var victim = jobs[2];
        var victimJtis = new List<string> { ProxyScenario.JtiOf(victim.Token) };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = jobs.Select(j => Task.Run(() => j.RunAsync(stop.Token))).ToArray();
        await Task.Delay(1000);

        // (a) SIGKILL and restart on the same port.
        scenario.KillProxy();
        await Task.Delay(300);
        var restartReady = await scenario.StartProxyAsync();
        await Task.Delay(1000);

        // (b) rotation: add v2 (not active); its tokens work the moment its file appears.
        var kid = scenario.Keys.AddKey();
        var newKeyLatency = await FirstAcceptedAsync(scenario, scenario.SignWith(kid, "job-probe"), "job-probe", TimeSpan.FromSeconds(5));
        // … then promote it and re-mint every job's token, as the jobs-manager does.
        scenario.Keys.Promote(kid);
        foreach (var job in jobs)
        {
            job.Token = scenario.Mint(job.Subject);
        }

        victimJtis.Add(ProxyScenario.JtiOf(victim.Token));
        await Task.Delay(1000);

        // Kill again: a fresh process knows the rotated ring from the files alone.
        scenario.KillProxy();
        await Task.Delay(200);
        await scenario.StartProxyAsync();
        await Task.Delay(1000);

        // (c) revoke one job: every jti it ever had.
        victim.MarkRevoked();
        scenario.Revoke(victim.Subject, [.. victimJtis]);
        var deadline = Stopwatch.StartNew();
        while (victim.RevocationLatency is null && deadline.Elapsed < PollPeriod + TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        await Task.Delay(500);
        await stop.CancelAsync();
        await Task.WhenAll(running);

        output.WriteLine($"ready: first start {firstReady.TotalMilliseconds:F0} ms, after SIGKILL {restartReady.TotalMilliseconds:F0} ms; new key accepted after {newKeyLatency?.TotalMilliseconds:F0} ms");
        output.WriteLine($"revocation bit after {victim.RevocationLatency?.TotalMilliseconds:F0} ms");
        foreach (var job in jobs)
        {
            output.WriteLine($"{job.Subject}: accepted {job.Accepted}, refused-valid {job.RefusedValid}, refused-after-revocation {job.RefusedAfterRevocation}, connection errors {job.ConnectionErrors}, 503 {job.Unavailable}, other {job.Other} {string.Join(" | ", job.Refusals.Distinct())}");
        }

        Assert.All(jobs, job => Assert.Equal(0, job.RefusedValid));
        Assert.All(jobs, job => Assert.Equal(0, job.Other));
        Assert.All(jobs, job => Assert.True(job.Accepted > 20, $"{job.Subject} accepted only {job.Accepted}"));
        Assert.True(jobs.Sum(j => j.ConnectionErrors) > 0, "the kills were expected to cut some connections");
        Assert.NotNull(newKeyLatency);
        Assert.True(newKeyLatency <= TimeSpan.FromSeconds(1.5), $"new key accepted after {newKeyLatency}");
        Assert.NotNull(victim.RevocationLatency);
        Assert.True(victim.RevocationLatency <= PollPeriod + TimeSpan.FromSeconds(2), $"revocation took {victim.RevocationLatency}");
        Assert.True(victim.RefusedAfterRevocation > 0);
        Assert.All(scenario.Upstream.Requests, r => Assert.Equal(r.Path.Split('/')[3], r.Header("X-Requests-Proxy-Subject")));
        Assert.DoesNotContain(scenario.Upstream.Requests, r => r.Header("Authorization") is not null);
    }

    [Fact]
    public async Task Legacy_KillRestart_ValidTokensAreRefused_TheProblemMeasured()
    {
        await using var scenario = await ProxyScenario.CreateAsync(stateless: false);
        await scenario.StartProxyAsync();
        var jobs = new List<JobClient>();
        for (var i = 1; i <= 3; i++)
        {
            var token = "opaque-" + Guid.NewGuid().ToString("N");
            await scenario.RegisterLegacyAsync(token, $"job-{i}");
            jobs.Add(new JobClient($"job-{i}", scenario.Address, token));
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var running = jobs.Select(j => Task.Run(() => j.RunAsync(stop.Token))).ToArray();

        // Wait for what is measured, not a fixed time: on a loaded machine (load average 40, the CI of
        // 2026-12-02) a second was not enough for a job's first accepted request.
        await WaitUntilAsync(() => jobs.All(j => Volatile.Read(ref j.Accepted) > 0), TimeSpan.FromSeconds(45));
        var refusedBeforeKill = jobs.Sum(j => j.RefusedValid);
        var acceptedBeforeKill = jobs.Min(j => j.Accepted);

        scenario.KillProxy();
        await Task.Delay(300);
        await scenario.StartProxyAsync();
        await WaitUntilAsync(() => jobs.All(j => Volatile.Read(ref j.RefusedValid) > 0), TimeSpan.FromSeconds(45));
        await stop.CancelAsync();
        await Task.WhenAll(running);

        foreach (var job in jobs)
        {
            output.WriteLine($"{job.Subject}: accepted {job.Accepted}, refused (valid before restart) {job.RefusedValid}, connection errors {job.ConnectionErrors}");
        }

        Assert.Equal(0, refusedBeforeKill);
        Assert.True(acceptedBeforeKill > 0, "every job was accepted before the kill");
        Assert.All(jobs, job => Assert.True(job.RefusedValid > 0, $"{job.Subject} was never refused after the restart"));
    }

    /// <summary>Polls until the condition holds or the bound passes (the assertions after it say which).</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Process_Sigterm_ExitsCleanly()
    {
        await using var scenario = await ProxyScenario.CreateAsync(stateless: true);
        await scenario.StartProxyAsync();

        var exitCode = await scenario.Proxy!.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        Assert.DoesNotContain(scenario.Proxy.OutputLines, l => l.Contains(scenario.Keys.Files["v1"].Trim(), StringComparison.Ordinal));
    }

    private static async Task<TimeSpan?> FirstAcceptedAsync(ProxyScenario scenario, string token, string subject, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = scenario.Address };
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/jobs/{subject}/results") { Content = new StringContent("{}") };
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return watch.Elapsed;
            }

            await Task.Delay(20);
        }

        return null;
    }
}
