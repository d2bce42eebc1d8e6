using System.Diagnostics;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The legacy system's own start-up race on the real processes (DESIGN §12, docs/operations.md): a
/// legacy replica the jobs-manager could not see when a job started (the headless Service's DNS did
/// not list it yet), or one whose container restarted, holds neither the registration nor — its
/// kubelet has not synced the ConfigMap yet — the list entry. It must not take traffic until the
/// jobs-manager's registration sync has reached it; from then on it accepts the job's token.
/// </summary>
public sealed class LegacyReplicaSyncProcessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ReplicaUnlistedAtTheStart_NotReadyUntilSynced_ThenAcceptsTheJobsToken_AlsoAfterAContainerRestart()
    {
        await using var scenario = await CutoverScenario.CreateAsync();
        try
        {
            await scenario.StartProxyAsync(0, stateless: false);
            // The grace bounds how long the kubelet may lag behind the list; this replica's lags for the whole test.
            await scenario.StartManagerAsync(stateless: false, grace: TimeSpan.FromMinutes(2));
            var token = File.ReadAllText(await scenario.StartJobAsync("job-1")).Trim();

            // Replica 1 starts after the job: not in DNS yet, and its copy of the list predates the job.
            var stale = scenario.Folder.Combine("stale-legacy-tokens");
            Directory.CreateDirectory(stale);
            File.WriteAllText(Path.Combine(stale, Tokens.Legacy.LegacyTokenList.FileName), "[]");
            await scenario.StartProxyAsync(1, stateless: false, publish: false, legacyTokensDirectory: stale, syncWaitSeconds: 120, waitReady: false);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(503, await scenario.ReadyStatusAsync(1));

            // DNS lists it: the next sync pushes the young registration, then the replica is ready and knows the token.
            scenario.Publish(1);
            await WaitForAsync(async () => await scenario.ReadyStatusAsync(1) == 200, "replica 1 ready after the sync");
            Assert.Equal(200, await scenario.ProbeAsync(1, "job-1", token));
            Assert.Equal(200, await scenario.ProbeAsync(0, "job-1", token));

            // Its container restarts (same address, empty registry, list still stale): not ready until synced again.
            await scenario.KillAndRestartProxyAsync(1, stateless: false, legacyTokensDirectory: stale, syncWaitSeconds: 120);
            await WaitForAsync(async () => await scenario.ReadyStatusAsync(1) == 200, "replica 1 ready after its restart's sync");
            Assert.Equal(200, await scenario.ProbeAsync(1, "job-1", token));

            // A stop makes both refuse it at once, and no later sync brings it back.
            await scenario.StopJobAsync("job-1");
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(401, await scenario.ProbeAsync(0, "job-1", token));
            Assert.Equal(401, await scenario.ProbeAsync(1, "job-1", token));
        }
        catch
        {
            Console.Error.WriteLine(scenario.Logs());
            throw;
        }
    }

    /// <summary>
    /// Finding B7 of 2026-12-02: a legacy replica whose container restarts after a stop, before the kubelet delivered the
    /// list's end, knows no tombstone and reads a copy where the stopped job's entry is live. It answers legacy tokens 503
    /// until the jobs-manager's first sync, which names the ended digest: then 401. Never 200.
    /// </summary>
    [Fact]
    public async Task ReplicaRestartedOnAStaleCopyAfterAStop_503UntilItsSync_Then401_Never200()
    {
        await using var scenario = await CutoverScenario.CreateAsync();
        try
        {
            await scenario.StartProxyAsync(0, stateless: false);
            await scenario.StartManagerAsync(stateless: false, grace: TimeSpan.FromMinutes(2));
            var token = File.ReadAllText(await scenario.StartJobAsync("job-1")).Trim();
            var running = File.ReadAllText(await scenario.StartJobAsync("job-2")).Trim();

            // Replica 1's copy of the list is the kubelet's from before the stop, for the whole test.
            var stale = scenario.Folder.Combine("stale-legacy-tokens");
            Directory.CreateDirectory(stale);
            foreach (var file in Directory.GetFiles(scenario.LegacyTokensDirectory))
            {
                File.Copy(file, Path.Combine(stale, Path.GetFileName(file)));
            }

            await scenario.StartProxyAsync(1, stateless: false, publish: true, legacyTokensDirectory: stale, syncWaitSeconds: 120, waitReady: true);
            Assert.Equal(200, await scenario.ProbeAsync(1, "job-1", token));

            await scenario.StopJobAsync("job-1");
            Assert.Equal(401, await scenario.ProbeAsync(0, "job-1", token));
            Assert.Equal(401, await scenario.ProbeAsync(1, "job-1", token));

            // The container restarts out of the jobs-manager's reach (not in DNS): no sync, stale copy, no tombstone.
            scenario.Unpublish(1);
            await scenario.KillAndRestartProxyAsync(1, stateless: false, legacyTokensDirectory: stale, syncWaitSeconds: 120);
            var before = new List<int>();
            for (var i = 0; i < 10; i++)
            {
                before.Add(await scenario.ProbeAsync(1, "job-1", token));
                await Task.Delay(200);
            }

            Assert.All(before, status => Assert.Equal(503, status));
            Assert.Equal(503, await scenario.ProbeAsync(1, "job-2", running));
            Assert.Equal(503, await scenario.ReadyStatusAsync(1));

            // Listed again: the first sync names the ended digest.
            scenario.Publish(1);
            var during = new List<int>();
            await WaitForAsync(async () =>
            {
                during.Add(await scenario.ProbeAsync(1, "job-1", token));
                return await scenario.ReadyStatusAsync(1) == 200;
            }, "replica 1 ready after its restart's sync");
            Assert.DoesNotContain(200, during);
            Assert.Equal(401, await scenario.ProbeAsync(1, "job-1", token));
            Assert.Equal(200, await scenario.ProbeAsync(1, "job-2", running));
        }
        catch
        {
            Console.Error.WriteLine(scenario.Logs());
            throw;
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Bound, $"waited {Bound.TotalSeconds:0} s for {what}");
            await Task.Delay(200);
        }
    }
}
