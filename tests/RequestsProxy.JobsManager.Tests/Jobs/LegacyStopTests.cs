using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Tests.Jobs;

/// <summary>
/// A legacy stop once the list's end is written (finding B2 of 2026-12-02): the job is stopped and revoked whatever a
/// legacy replica answers to its forget; the replicas that did not confirm are named, and a repeated stop asks them again.
/// </summary>
public sealed class LegacyStopTests : IDisposable
{
    private static readonly Uri Second = new("http://127.0.0.3:8888/");

    private readonly CutoverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Stop_OneReplicaRefusesTheForget_TheJobIsStoppedAndRevoked_TheReplicaIsNamed()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var token = _h.TokenOf("job-1");
        _h.Proxies.RefusingForgets = Second;

        var stopped = await legacy.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        var unconfirmed = Assert.Single(stopped.Value!.UnconfirmedReplicas!);
        Assert.Contains("127.0.0.3:8888", unconfirmed, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", unconfirmed, StringComparison.Ordinal);
        AssertStoppedAndEnded(legacy, token);
    }

    [Fact]
    public async Task Stop_OneReplicaUnreachable_TheJobIsStoppedAndRevoked_TheReplicaIsNamed()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var token = _h.TokenOf("job-1");
        _h.Proxies.Unreachable = Second;

        var stopped = await legacy.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Contains("Connection refused", Assert.Single(stopped.Value!.UnconfirmedReplicas!), StringComparison.Ordinal);
        AssertStoppedAndEnded(legacy, token);
    }

    [Fact]
    public async Task Stop_RepeatedAfterAnUnconfirmedForget_AsksEveryReplicaAgain_NothingElseChanges()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var token = _h.TokenOf("job-1");
        _h.Proxies.Unreachable = Second;
        Assert.Single((await legacy.StopAsync("job-1", CancellationToken.None)).Value!.UnconfirmedReplicas!);
        var endedAt = _h.EntryOf(token)!.Until;

        // Still unreachable: named again. Back: confirmed.
        _h.Time.Advance(TimeSpan.FromSeconds(30));
        var again = await legacy.StopAsync("job-1", CancellationToken.None);
        Assert.True(again.Succeeded, again.Message);
        Assert.False(again.Value!.Known);
        Assert.Single(again.Value.UnconfirmedReplicas!);

        _h.Proxies.Unreachable = null;
        var forgetsBefore = _h.Proxies.Sent.Count(s => s.Target.AbsolutePath == "/admin/v1/subjects/job-1");
        var last = await legacy.StopAsync("job-1", CancellationToken.None);
        Assert.True(last.Succeeded, last.Message);
        Assert.Null(last.Value!.UnconfirmedReplicas);
        Assert.Equal(2, _h.Proxies.Sent.Count(s => s.Target.AbsolutePath == "/admin/v1/subjects/job-1") - forgetsBefore);
        Assert.Contains(_h.Proxies.Sent, s => s.Target == new Uri(Second, "admin/v1/subjects/job-1"));

        // The end stays where the first stop put it; the runtime was asked to delete each time (idempotent).
        Assert.Equal(endedAt, _h.EntryOf(token)!.Until);
        Assert.Equal(3, _h.Runtime.Deleted.Count(d => d == "job-1"));
    }

    [Fact]
    public async Task Stop_TheListCannotBeWritten_NothingIsRevoked_TheJobKeepsRunningWithAWorkingToken()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var token = _h.TokenOf("job-1");
        _h.LegacyTokens.Fail = true;

        var stopped = await legacy.StopAsync("job-1", CancellationToken.None);

        Assert.False(stopped.Succeeded);
        Assert.Equal(JobError.Backend, stopped.Error);
        var view = legacy.Get("job-1")!;
        Assert.Equal(JobState.Running, view.State);
        Assert.False(view.TokensRevoked);
        Assert.Null(_h.EntryOf(token)!.Until);
        Assert.DoesNotContain(_h.Proxies.Calls, c => c.Method == HttpMethod.Delete);
    }

    [Fact]
    public async Task Sync_AfterAStop_NamesTheEndedDigestForTwoGraces_AlsoFromARestartedJobsManager()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        await CutoverHarness.StartAsync(legacy, "job-2");
        var stopped = LegacyTokenDigest.Compute(_h.TokenOf("job-1"));
        Assert.True((await legacy.StopAsync("job-1", CancellationToken.None)).Succeeded);

        await _h.Legacy.SyncAsync(CancellationToken.None);
        Assert.All(_h.Proxies.Bodies, b => Assert.Equal([stopped], b.GetProperty("forgotten").EnumerateArray().Select(d => d.GetString())));

        // A restarted jobs-manager has no memory of the stop: it reads the ended entries from the list.
        await _h.StartManagerAsync(stateless: false);
        _h.Proxies.Bodies.Clear();
        await _h.Legacy.SyncAsync(CancellationToken.None);
        Assert.All(_h.Proxies.Bodies, b => Assert.Equal([stopped], b.GetProperty("forgotten").EnumerateArray().Select(d => d.GetString())));
        Assert.Equal(2, _h.Proxies.Bodies.Count);

        // A cutover-style end in the future is not forgotten before it comes.
        await _h.LegacyTokens.UpdateAsync(l => l.EndSubject("job-2", (_h.Time.GetUtcNow() + _h.Grace).ToUnixTimeSeconds(), out _), CancellationToken.None);
        _h.Proxies.Bodies.Clear();
        await _h.Legacy.SyncAsync(CancellationToken.None);
        Assert.All(_h.Proxies.Bodies, b => Assert.Equal([stopped], b.GetProperty("forgotten").EnumerateArray().Select(d => d.GetString())));
    }

    private void AssertStoppedAndEnded(JobManager legacy, string token)
    {
        // Never a running job with a dead token: the list's end is written, so the job is stopped, not kept.
        Assert.Null(legacy.Get("job-1"));
        Assert.Contains("job-1", _h.Runtime.Deleted);
        Assert.Equal(_h.Time.GetUtcNow().ToUnixTimeSeconds(), _h.EntryOf(token)!.Until);
        Assert.Equal(2, _h.Proxies.Sent.Count(s => s.Target.AbsolutePath == "/admin/v1/subjects/job-1") + (_h.Proxies.Unreachable is null ? 0 : 1));
    }
}
