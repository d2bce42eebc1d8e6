using System.Diagnostics;
using Xunit.Abstractions;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The legacy ↔ stateless flip on the real processes (DESIGN §12, docs/operations.md): jobs post to
/// both proxy replicas throughout, reading their token file before each request; every state of a
/// rolling flip is passed through, including a proxy and a jobs-manager killed in the middle of it.
/// No request carrying a token the jobs-manager handed out is ever refused.
/// </summary>
public sealed class CutoverProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task RollingFlip_ProxyKilledMidTransition_NoValidTokenRefused_AndOldTokensEndAfterTheGrace()
    {
        await using var scenario = await CutoverScenario.CreateAsync();
        var clients = new List<JobClient>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var running = new List<Task>();
        try
        {
            var opaque = await StartLegacyAsync(scenario, clients, running, stop.Token);

            // 1. The proxy Deployment starts rolling: replica 0 is stateless, replica 1 still legacy. While the legacy
            //    jobs-manager runs, the list says issuing: opaque, and the stateless replica is not ready (issue 15 C3).
            await scenario.RollProxyAsync(0, stateless: true, waitReady: false);
            await Task.Delay(Settle);
            Assert.Equal("opaque", scenario.Issuing());
            Assert.Equal(503, await scenario.ReadyStatusAsync(0));

            // 2. The legacy replica dies mid-transition: it restarts with an empty registry and knows the tokens from the list alone.
            await scenario.KillAndRestartProxyAsync(1, stateless: false);
            await Task.Delay(Settle);

            // 3. The jobs-manager is recreated stateless: it writes closed (the stateless replica becomes ready), converts
            //    every legacy job to a JWT and ends the entries a grace later.
            await scenario.RecreateManagerAsync(stateless: true);
            Assert.Equal("closed", scenario.Issuing());
            await scenario.WaitReadyAsync(0, TimeSpan.FromSeconds(10));
            var converted = Stopwatch.StartNew();
            await WaitAsync(() => clients.All(c => c.AcceptedJwt > 3), "every client posting with its JWT", TimeSpan.FromSeconds(20));
            output.WriteLine($"every job on its JWT {converted.Elapsed.TotalSeconds:0.0} s after the stateless jobs-manager was ready");
            Assert.All(scenario.LegacyTokens().Entries, e => Assert.NotNull(e.Until));

            // 4. The roll finishes, then a stateless replica is killed: nothing depends on memory any more.
            await scenario.RollProxyAsync(1, stateless: true);
            await Task.Delay(Settle);
            await scenario.KillAndRestartProxyAsync(0, stateless: true);
            await Task.Delay(Settle);

            // 5. After the grace the old opaque tokens are refused by every replica, and the list drains.
            await WaitAsync(() => scenario.LegacyTokens().Count == 0, "the legacy token list to drain", (2 * CutoverScenario.Grace) + TimeSpan.FromSeconds(10));
            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var (job, token) in opaque)
            {
                Assert.Equal(401, await scenario.ProbeAsync(0, job, token));
                Assert.Equal(401, await scenario.ProbeAsync(1, job, token));
            }

            await stop.CancelAsync();
            await Task.WhenAll(running);
            Report(clients);
            Assert.All(clients, c => Assert.Equal(0, c.RefusedValid));
            Assert.All(clients, c => Assert.Equal(0, c.Other));
            Assert.All(clients, c => Assert.True(c.AcceptedOpaque > 0 && c.AcceptedJwt > 0, $"{c.Subject}: opaque {c.AcceptedOpaque}, jwt {c.AcceptedJwt}"));
        }
        catch
        {
            await stop.CancelAsync();
            Report(clients);
            output.WriteLine(scenario.Logs());
            throw;
        }
    }

    [Fact]
    public async Task JobsManagerKilledMidConversion_ThenFlipBack_NoValidTokenRefused()
    {
        await using var scenario = await CutoverScenario.CreateAsync();
        var clients = new List<JobClient>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var running = new List<Task>();
        try
        {
            await StartLegacyAsync(scenario, clients, running, stop.Token);
            await scenario.RollProxyAsync(0, stateless: true, waitReady: false);

            // The stateless jobs-manager is SIGKILLed right after it became ready (mid-conversion), then starts again.
            await scenario.RecreateManagerAsync(stateless: true);
            scenario.KillManager();
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            await scenario.StartManagerAsync(stateless: true);
            await scenario.WaitReadyAsync(0, TimeSpan.FromSeconds(10));
            await WaitAsync(() => clients.All(c => c.AcceptedJwt > 3), "every client posting with its JWT", TimeSpan.FromSeconds(20));
            await scenario.RollProxyAsync(1, stateless: true);
            await Task.Delay(Settle);

            // Back to legacy, in the chart's order: jobs-manager recreated (it writes opaque; the stateless replicas stay ready),
            // then the proxies roll.
            await scenario.RecreateManagerAsync(stateless: false);
            Assert.Equal("opaque", scenario.Issuing());
            Assert.Equal(200, await scenario.ReadyStatusAsync(1));
            await scenario.RollProxyAsync(0, stateless: false);
            await Task.Delay(Settle);

            // A job started under legacy while replica 1 is still stateless gets a JWT (accepted by both kinds at once) and keeps it.
            var tokenFile4 = await scenario.StartJobAsync("job-4");
            Assert.Equal(2, File.ReadAllText(tokenFile4).Trim().Count(c => c == '.'));
            var late = new[] { 0, 1 }.Select(r => new JobClient("job-4", scenario.ProxyAddress(r), "", tokenFile4)).ToList();
            await scenario.RollProxyAsync(1, stateless: false);

            // Once every replica is legacy again, a new job gets a legacy token (registered with both, listed for restarts).
            var tokenFile5 = await scenario.StartJobAsync("job-5");
            Assert.DoesNotContain('.', File.ReadAllText(tokenFile5).Trim());
            var legacyBorn = new[] { 0, 1 }.Select(r => new JobClient("job-5", scenario.ProxyAddress(r), "", tokenFile5)).ToList();
            late.AddRange(legacyBorn);
            clients.AddRange(late);
            running.AddRange(late.Select(c => Task.Run(() => c.RunAsync(stop.Token))));
            await Task.Delay(Settle);
            await scenario.KillAndRestartProxyAsync(0, stateless: false);
            await Task.Delay(Settle);

            // The jobs started before the flip back keep their JWTs (refreshed as JWTs by the legacy jobs-manager).
            var before = clients.Take(6).Select(c => c.AcceptedJwt).ToList();
            await Task.Delay(Settle);
            await stop.CancelAsync();
            await Task.WhenAll(running);
            Report(clients);
            Assert.All(clients, c => Assert.Equal(0, c.RefusedValid));
            Assert.All(clients, c => Assert.Equal(0, c.Other));
            Assert.All(clients.Take(6).Zip(before), p => Assert.True(p.First.AcceptedJwt > p.Second, $"{p.First.Subject} stopped posting with its JWT after the flip back"));
            Assert.All(late.Take(2), c => Assert.True(c.AcceptedJwt > 0 && c.AcceptedOpaque == 0, $"{c.Subject}: jwt {c.AcceptedJwt}, opaque {c.AcceptedOpaque}"));
            Assert.All(legacyBorn, c => Assert.True(c.AcceptedOpaque > 0, $"{c.Subject} (legacy-born) accepted {c.AcceptedOpaque}"));
        }
        catch
        {
            await stop.CancelAsync();
            Report(clients);
            output.WriteLine(scenario.Logs());
            throw;
        }
    }

    /// <summary>Everything legacy: two replicas, the jobs-manager, three jobs each posting to both replicas. Returns each job's opaque token.</summary>
    private static async Task<Dictionary<string, string>> StartLegacyAsync(CutoverScenario scenario, List<JobClient> clients, List<Task> running, CancellationToken stop)
    {
        await scenario.StartProxyAsync(0, stateless: false);
        await scenario.StartProxyAsync(1, stateless: false);
        await scenario.StartManagerAsync(stateless: false);
        var opaque = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var job in new[] { "job-1", "job-2", "job-3" })
        {
            var tokenFile = await scenario.StartJobAsync(job);
            opaque[job] = File.ReadAllText(tokenFile).Trim();
            Assert.DoesNotContain('.', opaque[job]);
            clients.AddRange(new[] { 0, 1 }.Select(r => new JobClient(job, scenario.ProxyAddress(r), "", tokenFile)));
        }

        running.AddRange(clients.Select(c => Task.Run(() => c.RunAsync(stop))));
        await Task.Delay(Settle);
        return opaque;
    }

    private void Report(IEnumerable<JobClient> clients)
    {
        foreach (var c in clients)
        {
            output.WriteLine($"{c.Subject}: accepted {c.Accepted} (opaque {c.AcceptedOpaque}, jwt {c.AcceptedJwt}), refused-valid {c.RefusedValid}, connection errors {c.ConnectionErrors}, 503 {c.Unavailable}, other {c.Other} {string.Join(" | ", c.Refusals.Distinct())}");
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what, TimeSpan limit)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(100);
        }
    }
}
