using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Tests.Jobs;

/// <summary>
/// Finding B9: a job converted to a JWT at the flip forgets its legacy token from its history two
/// graces later, whether or not the list ever ended the legacy entry (the end is retried each pass and
/// can keep failing: the list's ConfigMap unwritable for a while, or full). A stop then took the quiet
/// path: JWTs revoked, Job deleted, 200 — and the stopped job's legacy token still accepted by every
/// replica. A stop must end every open entry of the job, or fail.
/// </summary>
public sealed class ConvertedJobStopTests : IDisposable
{
    private readonly CutoverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task ConvertedJob_EntryNeverEnded_StopFailsUntilTheListTakesTheEnd_ThenEndsItNow()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var digest = LegacyTokenDigest.Compute(_h.TokenOf("job-1"));

        // The flip while the list cannot be written: the job gets its JWT, its legacy entry stays open.
        _h.LegacyTokens.Fail = true;
        var stateless = await _h.StartManagerAsync(stateless: true);
        await PassIgnoringFailuresAsync(stateless);
        Assert.Equal(2, _h.TokenOf("job-1").Count(c => c == '.'));
        Assert.Null(_h.List.Entries.Single(e => e.Digest == digest).Until);

        // Refreshes long past two graces: the legacy token leaves the job's history.
        for (var i = 0; i < 8; i++)
        {
            _h.Time.Advance(TimeSpan.FromMinutes(10));
            await PassIgnoringFailuresAsync(stateless);
        }

        var refused = await stateless.StopAsync("job-1", CancellationToken.None);

        Assert.False(refused.Succeeded, "a stop that could not end the job's legacy entry reported success");
        Assert.NotNull(stateless.Get("job-1"));
        Assert.Empty(_h.Revocations.List.Entries);

        _h.LegacyTokens.Fail = false;
        var stopped = await stateless.StopAsync("job-1", CancellationToken.None);
        var now = _h.Time.GetUtcNow().ToUnixTimeSeconds();

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Null(_h.List.Find(digest, now));
        Assert.Equal(now, _h.List.Entries.Single(e => e.Digest == digest).Until);
        Assert.NotEmpty(_h.Revocations.List.Entries);
    }

    [Fact]
    public async Task StatelessJob_ListDown_StopStillSucceeds_ItHasNothingToEndThere()
    {
        var stateless = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.StartAsync(stateless, "job-1");
        await CutoverHarness.PassAsync(stateless);

        _h.LegacyTokens.Fail = true;
        var stopped = await stateless.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.NotEmpty(_h.Revocations.List.Entries);
    }

    private static async Task PassIgnoringFailuresAsync(RequestsProxy.JobsManager.Jobs.JobManager manager)
    {
        foreach (var step in new Func<Task>[]
        {
            () => manager.SyncStatesAsync(CancellationToken.None),
            () => manager.RefreshAsync(CancellationToken.None),
            () => manager.ConvergeLegacyTokensAsync(CancellationToken.None),
        })
        {
            try
            {
                await step();
            }
            catch (IOException)
            {
                // The list store's simulated outage; the other steps still run, as in the maintenance pass.
            }
        }
    }
}
