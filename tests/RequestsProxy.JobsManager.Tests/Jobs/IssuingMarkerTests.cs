using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Tests.Jobs;

/// <summary>
/// Issue 15 C3, the jobs-manager's half of the two-phase flip: each jobs-manager writes its mode's
/// issuing marker beside the legacy token list at start-up — legacy <c>opaque</c> before any opaque
/// token, stateless <c>closed</c> — so a stateless proxy waits until its copy holds every opaque
/// token ever issued. Every state: legacy, stateless, marker missing, flip back, restarts mid-flip,
/// a marker that cannot be written.
/// </summary>
public sealed class IssuingMarkerTests : IDisposable
{
    private readonly CutoverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task LegacyJobsManager_WritesOpaqueBeforeItsFirstOpaqueToken()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);

        Assert.Same(LegacyIssuer.Opaque, _h.Issuer.Document);
        await CutoverHarness.StartAsync(legacy, "job-1");
        Assert.Same(LegacyIssuer.Opaque, _h.Issuer.Document);
        Assert.Null(_h.Legacy.IssuerProblem);
    }

    [Fact]
    public async Task StatelessJobsManagerAfterALegacyOne_WritesClosed_AfterEveryOpaqueEntry()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        await CutoverHarness.StartAsync(legacy, "job-2");
        var entries = _h.List.Count;

        // Recreate: the legacy process is gone before this one starts, so 'closed' follows its last list write.
        var stateless = await _h.StartManagerAsync(stateless: true);

        Assert.Same(LegacyIssuer.Closed, _h.Issuer.Document);
        Assert.Equal(entries, _h.List.Count);
        Assert.All(new[] { "job-1", "job-2" }, j => Assert.NotNull(_h.EntryOf(_h.TokenOf(j))));

        // A stateless jobs-manager never adds an entry: its new jobs get JWTs, the legacy ones are converted.
        await CutoverHarness.StartAsync(stateless, "job-3");
        await CutoverHarness.PassAsync(stateless);
        Assert.Equal(entries, _h.List.Count);
        Assert.Equal(2, _h.TokenOf("job-3").Count(c => c == '.'));
    }

    [Fact]
    public async Task MarkerMissing_AListOfAnOlderJobsManager_GetsThisModesMarker()
    {
        Assert.Same(LegacyIssuer.Unknown, _h.Issuer.Document);

        await _h.StartManagerAsync(stateless: true);

        Assert.Same(LegacyIssuer.Closed, _h.Issuer.Document);
    }

    [Fact]
    public async Task FlipBack_LegacyJobsManagerWritesOpaqueAgain_AndIssuesJwtsWhileAStatelessPodIsListed()
    {
        await _h.StartManagerAsync(stateless: true);
        Assert.Same(LegacyIssuer.Closed, _h.Issuer.Document);

        var legacy = await _h.StartManagerAsync(stateless: false);
        _h.Proxies.Stateless = [new Uri("http://127.0.0.9:8888/")];
        await CutoverHarness.StartAsync(legacy, "job-1");

        Assert.Same(LegacyIssuer.Opaque, _h.Issuer.Document);
        Assert.Equal(2, _h.TokenOf("job-1").Count(c => c == '.'));
        Assert.Equal(0, _h.List.Count);
    }

    [Fact]
    public async Task JobsManagerRestartMidFlip_SameMarker_NoWrite()
    {
        await _h.StartManagerAsync(stateless: true);
        var writes = _h.Issuer.Writes;

        await _h.StartManagerAsync(stateless: true);

        Assert.Equal(writes, _h.Issuer.Writes);
        Assert.Same(LegacyIssuer.Closed, _h.Issuer.Document);
    }

    [Fact]
    public async Task MarkerCannotBeWritten_LegacyStartRefused_NothingListedNorSent_ThenRecovers()
    {
        _h.Issuer.Fail = true;
        var legacy = await _h.StartManagerAsync(stateless: false);
        Assert.Contains("issuing marker could not be set to 'opaque'", _h.Legacy.IssuerProblem, StringComparison.Ordinal);

        var refused = await legacy.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.False(refused.Succeeded);
        Assert.Contains("issuing marker", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, _h.List.Count);
        Assert.Empty(_h.Proxies.Sent);

        _h.Issuer.Fail = false;
        await CutoverHarness.StartAsync(legacy, "job-1");
        Assert.Same(LegacyIssuer.Opaque, _h.Issuer.Document);
        Assert.Null(_h.Legacy.IssuerProblem);
    }
}
