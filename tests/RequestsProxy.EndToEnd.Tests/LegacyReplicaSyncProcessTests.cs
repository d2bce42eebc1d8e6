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
