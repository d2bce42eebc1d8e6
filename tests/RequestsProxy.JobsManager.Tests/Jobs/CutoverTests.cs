using System.Net;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Tests.Jobs;

/// <summary>
/// The jobs-manager's half of the flip (DESIGN §12, docs/operations.md): legacy tokens listed
/// before they are registered; a stateless jobs-manager converts them and ends their entries a
/// grace after delivery; a legacy one keeps refreshing JWTs; a restart at any step loses nothing.
/// </summary>
public sealed class CutoverTests : IDisposable
{
    private readonly CutoverHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static bool IsJwt(string token) => token.Count(c => c == '.') == 2;

    [Fact]
    public async Task Legacy_Start_ListsTheDigestBeforeAnyReplicaRegistersIt()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        var listedAtRegistration = new List<int>();
        _h.Proxies.OnRegister = () => listedAtRegistration.Add(_h.List.Count);

        var job = await CutoverHarness.StartAsync(legacy, "job-1");

        var token = _h.TokenOf("job-1");
        Assert.False(IsJwt(token));
        var entry = _h.EntryOf(token);
        Assert.NotNull(entry);
        Assert.Equal(("job-1", job.Scope, (long?)null), (entry!.Sub, entry.Scope, entry.Until));
        Assert.Equal([1, 1], listedAtRegistration);
        Assert.DoesNotContain(token, string.Join("\n", _h.List.Entries), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Legacy_ListUnavailable_StartFailsAndNoReplicaEverSawTheToken()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        _h.LegacyTokens.Fail = true;

        var result = await legacy.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Empty(_h.Proxies.Calls);
        Assert.False(_h.Runtime.Tokens.ContainsKey("job-1"));
    }

    [Fact]
    public async Task Legacy_ReplicaRefusesRegistration_StartFailsAndTheEntryEndsAtOnce()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        _h.Proxies.Status = HttpStatusCode.ServiceUnavailable;

        var result = await legacy.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(_h.Time.GetUtcNow().ToUnixTimeSeconds(), Assert.Single(_h.List.Entries).Until);
        // No replica accepted it: no forget goes anywhere.
        Assert.DoesNotContain(_h.Proxies.Calls, c => c.Method == HttpMethod.Delete);
    }

    [Fact]
    public async Task Legacy_OneReplicaRefusesRegistration_EntryEndsNotRemoved_AndTheReplicaThatAcceptedForgetsTheToken()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        _h.Proxies.Refusing = new Uri("http://127.0.0.3:8888/");

        var result = await legacy.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.False(result.Succeeded);
        // Ended, kept a grace: the replica that registered the token refuses it once the list reaches it.
        var entry = Assert.Single(_h.List.Entries);
        Assert.Equal(("job-1", (long?)_h.Time.GetUtcNow().ToUnixTimeSeconds()), (entry.Sub, entry.Until));
        Assert.Equal((HttpMethod.Delete, "/admin/v1/tokens/" + entry.Digest), Assert.Single(_h.Proxies.Calls, c => c.Method == HttpMethod.Delete));
        Assert.Single(_h.Proxies.Sent, s => s.Target == new Uri("http://127.0.0.2:8888/admin/v1/tokens/" + entry.Digest));
        Assert.Equal(0, _h.Legacy.PendingRegistrations);
    }

    [Fact]
    public async Task Legacy_Stop_UnlistsThenEveryReplicaForgets()
    {
        var manager = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(manager, "job-1");
        await CutoverHarness.StartAsync(manager, "job-2");

        var stopped = await manager.StopAsync("job-2", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        var now = _h.Time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(["job-1"], _h.List.Entries.Where(e => e.IsLive(now)).Select(e => e.Sub));
        // Ended at once, not removed: a replica whose forget is lost still learns of the end.
        Assert.Equal(now, _h.List.Entries.Single(e => e.Sub == "job-2").Until);
        Assert.Equal(2, _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Delete && c.Path == "/admin/v1/subjects/job-2"));

        _h.Time.Advance(_h.Grace);
        await manager.ConvergeLegacyTokensAsync(CancellationToken.None);
        Assert.Equal(["job-1"], _h.List.Entries.Select(e => e.Sub));
    }

    [Fact]
    public async Task StatelessRestart_LegacyJobGetsAJwt_ItsEntryEndsAfterTheGrace_ThenIsDropped()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var legacyToken = _h.TokenOf("job-1");

        var stateless = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(stateless);

        var jwt = _h.TokenOf("job-1");
        Assert.True(IsJwt(jwt));
        var view = stateless.Get("job-1")!;
        Assert.NotNull(view.Token!.Kid);
        var entry = _h.EntryOf(legacyToken)!;
        Assert.Equal((_h.Time.GetUtcNow() + _h.Grace).ToUnixTimeSeconds(), entry.Until);

        _h.Time.Advance(_h.Grace - TimeSpan.FromSeconds(1));
        await CutoverHarness.PassAsync(stateless);
        Assert.NotNull(_h.EntryOf(legacyToken));
        Assert.Equal(jwt, _h.TokenOf("job-1"));

        // Ended: refused everywhere from now on; kept one more grace so every legacy replica sees the end, then dropped.
        _h.Time.Advance(TimeSpan.FromSeconds(1));
        await CutoverHarness.PassAsync(stateless);
        Assert.False(_h.EntryOf(legacyToken)!.IsLive(_h.Time.GetUtcNow().ToUnixTimeSeconds()));
        _h.Time.Advance(_h.Grace);
        await CutoverHarness.PassAsync(stateless);
        Assert.Equal(0, _h.List.Count);
        // The legacy token is never a revocation entry: it has no jti a proxy could look up.
        Assert.Equal(0, _h.Revocations.List.Count);
    }

    [Fact]
    public async Task StatelessRestart_StopDuringTheGrace_UnlistsAtOnceAndRevokesTheJwt()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var stateless = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(stateless);
        var jti = stateless.Get("job-1")!.Token!.Jti;

        var stopped = await stateless.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        var now = _h.Time.GetUtcNow().ToUnixTimeSeconds();
        Assert.DoesNotContain(_h.List.Entries, e => e.IsLive(now));
        Assert.True(_h.Revocations.List.Contains(jti));
        Assert.DoesNotContain(_h.Revocations.List.Entries, e => e.Jti.StartsWith("opaque-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StatelessRestart_JwtNotDelivered_EntryStaysOpen_NextManagerConvertsAgain()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var legacyToken = _h.TokenOf("job-1");
        _h.Runtime.FailDeliveries = true;

        var first = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(first);

        Assert.Equal(legacyToken, _h.TokenOf("job-1"));
        Assert.Null(_h.EntryOf(legacyToken)!.Until);

        // The jobs-manager restarts mid-flip: the ledger still names the legacy token as current.
        _h.Runtime.FailDeliveries = false;
        var second = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(second);

        Assert.True(IsJwt(_h.TokenOf("job-1")));
        Assert.NotNull(_h.EntryOf(legacyToken)!.Until);
    }

    [Fact]
    public async Task StatelessRestart_EndingFailedAfterDelivery_TheNextPassEndsTheEntry()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var legacyToken = _h.TokenOf("job-1");
        var stateless = await _h.StartManagerAsync(stateless: true);
        _h.LegacyTokens.Fail = true;

        await CutoverHarness.PassAsync(stateless).ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.True(IsJwt(_h.TokenOf("job-1")));
        _h.LegacyTokens.Fail = false;
        Assert.Null(_h.EntryOf(legacyToken)!.Until);

        // Restarted before the pass, or not: the converge step sees a job holding a JWT.
        var restarted = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(restarted);
        Assert.Equal((_h.Time.GetUtcNow() + _h.Grace).ToUnixTimeSeconds(), _h.EntryOf(legacyToken)!.Until);
    }

    [Fact]
    public async Task FlipBack_LedgerSaveFailedAfterTheCutoverDelivery_TheLegacyManagerStillRefreshesTheJwt()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var legacyToken = _h.TokenOf("job-1");
        var registrations = _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Post);
        var stateless = await _h.StartManagerAsync(stateless: true);
        // The JWT reaches the job, then the ledger refuses the write that names it as the job's token.
        _h.Runtime.BeforeDelivery = (_, credential) => _h.Ledger.Fail |= IsJwt(credential.Token);

        await CutoverHarness.PassAsync(stateless);

        var converted = _h.TokenOf("job-1");
        Assert.True(IsJwt(converted));
        Assert.NotNull(_h.EntryOf(legacyToken)!.Until);
        _h.Runtime.BeforeDelivery = null;
        _h.Ledger.Fail = false;

        // Flipped back before anything rewrote the ledger: it still names the legacy token as current.
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.PassAsync(legacy);
        var refreshed = _h.TokenOf("job-1");
        Assert.True(IsJwt(refreshed));
        Assert.NotEqual(converted, refreshed);
        Assert.NotNull(legacy.Get("job-1")!.Token!.Kid);

        // And it keeps being refreshed as a JWT: past half its lifetime, a new one.
        _h.Time.Advance(TimeSpan.FromMinutes(31));
        await CutoverHarness.PassAsync(legacy);
        Assert.True(IsJwt(_h.TokenOf("job-1")));
        Assert.NotEqual(refreshed, _h.TokenOf("job-1"));
        Assert.Equal(registrations, _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Post));
    }

    [Fact]
    public async Task FlipBack_CutoverJwtRecordedButNeverDelivered_LegacyEntryStaysOpenUntilAJwtIsDelivered()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var legacyToken = _h.TokenOf("job-1");
        var registrations = _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Post);
        _h.Runtime.FailDeliveries = true;
        await CutoverHarness.PassAsync(await _h.StartManagerAsync(stateless: true));
        Assert.Equal(legacyToken, _h.TokenOf("job-1"));

        // Legacy again, deliveries still failing: the job may hold its legacy token, so its entry stays open.
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.PassAsync(legacy);
        Assert.Equal(legacyToken, _h.TokenOf("job-1"));
        Assert.Null(_h.EntryOf(legacyToken)!.Until);

        _h.Runtime.FailDeliveries = false;
        await CutoverHarness.PassAsync(legacy);
        Assert.True(IsJwt(_h.TokenOf("job-1")));
        Assert.Equal((_h.Time.GetUtcNow() + _h.Grace).ToUnixTimeSeconds(), _h.EntryOf(legacyToken)!.Until);
        Assert.Equal(registrations, _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Post));
    }

    [Fact]
    public async Task FlipBack_LegacyManagerKeepsRefreshingTheJwt_AndAddsNoLegacyEntry()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: true), "job-1");
        var first = _h.TokenOf("job-1");

        var legacy = await _h.StartManagerAsync(stateless: false);
        _h.Time.Advance(TimeSpan.FromMinutes(31));
        await CutoverHarness.PassAsync(legacy);

        var refreshed = _h.TokenOf("job-1");
        Assert.True(IsJwt(refreshed));
        Assert.NotEqual(first, refreshed);
        Assert.Equal(0, _h.List.Count);
        Assert.DoesNotContain(_h.Proxies.Calls, c => c.Method == HttpMethod.Post);

        var jti = legacy.Get("job-1")!.Token!.Jti;
        var stopped = await legacy.StopAsync("job-1", CancellationToken.None);
        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.True(_h.Revocations.List.Contains(jti));
    }

    [Fact]
    public async Task Stateless_StopOfACutoverEraJob_SendsTheAdminTokenToNoReplica()
    {
        await CutoverHarness.StartAsync(await _h.StartManagerAsync(stateless: false), "job-1");
        var legacyToken = _h.TokenOf("job-1");
        var stateless = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(stateless);
        _h.Proxies.Sent.Clear();

        var stopped = await stateless.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Empty(_h.Proxies.Sent);
        // Every replica refuses it once the list's end reaches it, a legacy one too.
        Assert.False(_h.EntryOf(legacyToken)!.IsLive(_h.Time.GetUtcNow().ToUnixTimeSeconds()));
    }

    [Fact]
    public async Task Legacy_AStatelessReplicaExists_NewJobGetsAJwt_AndNoRequestReachesAnyReplica()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        _h.Proxies.Stateless = [new Uri("http://127.0.0.9:8888/")];

        await CutoverHarness.StartAsync(legacy, "job-1");

        Assert.True(IsJwt(_h.TokenOf("job-1")));
        Assert.Equal(0, _h.List.Count);
        Assert.Empty(_h.Proxies.Sent);
    }

    [Fact]
    public async Task Legacy_StopWithAStatelessReplica_ForgetsAtLegacyReplicasOnly()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        _h.Proxies.Stateless = [new Uri("http://127.0.0.9:8888/")];
        await _h.Legacy.SyncAsync(CancellationToken.None);

        var stopped = await legacy.StopAsync("job-1", CancellationToken.None);

        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Equal(2, _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Delete));
        Assert.DoesNotContain(_h.Proxies.Sent, s => s.Target.Host == "127.0.0.9");
        Assert.All(_h.Proxies.Sent, s => Assert.Null(s.Authorization));
        Assert.All(_h.Proxies.Sent, s => Assert.NotNull(s.Signature));
    }

    [Fact]
    public async Task LegacySync_PushesYoungRegistrationsToEveryLegacyReplica_UntilTheGraceOrAStop()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        await CutoverHarness.StartAsync(legacy, "job-2");
        _h.Proxies.Bodies.Clear();

        Assert.Equal(2, await _h.Legacy.SyncAsync(CancellationToken.None));
        Assert.Equal(2, _h.Proxies.Bodies.Count);
        Assert.All(_h.Proxies.Bodies, b => Assert.Equal(2, b.GetProperty("registrations").GetArrayLength()));
        Assert.Contains(LegacyTokenDigest.Compute(_h.TokenOf("job-1")), _h.Proxies.Bodies.First().GetRawText(), StringComparison.Ordinal);
        Assert.All(_h.Proxies.Bodies, b => Assert.DoesNotContain(_h.TokenOf("job-1"), b.GetRawText(), StringComparison.Ordinal));

        // A stop ends the pushes of its job before it forgets; the rest stop after the grace.
        Assert.True((await legacy.StopAsync("job-1", CancellationToken.None)).Succeeded);
        _h.Proxies.Bodies.Clear();
        await _h.Legacy.SyncAsync(CancellationToken.None);
        Assert.All(_h.Proxies.Bodies, b => Assert.DoesNotContain("job-1", b.GetRawText(), StringComparison.Ordinal));
        Assert.All(_h.Proxies.Bodies, b => Assert.Equal(1, b.GetProperty("registrations").GetArrayLength()));

        _h.Time.Advance(_h.Grace);
        _h.Proxies.Bodies.Clear();
        await _h.Legacy.SyncAsync(CancellationToken.None);
        Assert.All(_h.Proxies.Bodies, b => Assert.Equal(0, b.GetProperty("registrations").GetArrayLength()));
        Assert.Equal(0, _h.Legacy.PendingRegistrations);
    }

    [Fact]
    public async Task Legacy_ListNearItsConfigMapLimit_Exported_ThenAStartPastItIsRefused507AndNothingIsSent()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await _h.LegacyTokens.UpdateAsync(_ => Filled(0.81), CancellationToken.None);

        await CutoverHarness.StartAsync(legacy, "job-1");
        Assert.InRange(_h.Metrics.LegacyTokensSizeBytes, DocumentLimits.WarningThresholdBytes, DocumentLimits.ConfigMapBytes);

        await _h.LegacyTokens.UpdateAsync(_ => Filled(1.0), CancellationToken.None);
        var posts = _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Post);
        var refused = await legacy.StartAsync(CoreHarness.Spec("job-2"), CancellationToken.None);

        Assert.Equal(JobError.Full, refused.Error);
        Assert.Contains($"over the {DocumentLimits.LegacyListAdmitBytes}-byte limit", refused.Message, StringComparison.Ordinal);
        Assert.Equal(posts, _h.Proxies.Calls.Count(c => c.Method == HttpMethod.Post));
        Assert.False(_h.Runtime.Tokens.ContainsKey("job-2"));
        Assert.Null(legacy.Get("job-2"));
    }

    [Fact]
    public async Task Legacy_ListFilledToTheStartLimit_EveryEntryEnds_StopsAndTheFlipFit()
    {
        // The ConfigMap store's check: the list and the issuing key's value together within 1 MiB.
        _h.LegacyTokens.MaxBytes = DocumentLimits.ConfigMapBytes - LegacyIssuerCodec.Instance.Serialize(LegacyIssuer.Opaque).Length;
        var legacy = await _h.StartManagerAsync(stateless: false);

        // A few entries short of the limit, then starts until one is refused: the list is at the start limit.
        var ended = new LegacyTokenList([Typical(0) with { Until = LegacyTokenList.LatestUntil }]).Serialize().Length;
        var perEntry = new LegacyTokenList([Typical(0) with { Until = LegacyTokenList.LatestUntil }, Typical(1) with { Until = LegacyTokenList.LatestUntil }]).Serialize().Length - ended;
        var filler = (int)((DocumentLimits.LegacyListAdmitBytes - ended) / perEntry) - 3;
        await _h.LegacyTokens.UpdateAsync(_ => new LegacyTokenList([.. Enumerable.Range(0, filler).Select(Typical)]), CancellationToken.None);
        var started = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var result = await legacy.StartAsync(CoreHarness.Spec($"train-9{i:D5}"), CancellationToken.None);
            if (!result.Succeeded)
            {
                Assert.Equal(JobError.Full, result.Error);
                break;
            }

            started.Add(result.Value!.Name);
        }

        Assert.InRange(started.Count, 1, 9);
        Assert.InRange(_h.List.SizeWhenEveryEntryEnded(), DocumentLimits.LegacyListAdmitBytes - perEntry, DocumentLimits.LegacyListAdmitBytes);

        // Legacy mode: a stop ends its entry at once, and the write fits.
        var stopped = await legacy.StopAsync(started[0], CancellationToken.None);
        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.NotNull(_h.List.OfSubject(started[0]).Single().Until);

        // The flip: every live job's entry ends after the grace, every other entry in the same pass; every write fits.
        var stateless = await _h.StartManagerAsync(stateless: true);
        await CutoverHarness.PassAsync(stateless);
        Assert.All(_h.List.Entries, e => Assert.NotNull(e.Until));
        Assert.Equal(filler + started.Count, _h.List.Count);
        Assert.InRange(_h.List.Serialize().LongLength, 1, _h.LegacyTokens.MaxBytes.Value);

        // And the stop of a converted legacy-era job ends what is left of it.
        var stop = await stateless.StopAsync(started[^1], CancellationToken.None);
        Assert.True(stop.Succeeded, stop.Message);
    }

    /// <summary>A typical entry: a 43-character digest, a 12-character job name, the default scope.</summary>
    private static LegacyTokenEntry Typical(int i) => new(LegacyTokenDigest.Compute($"filler-{i}"), $"train-{i:D6}", "results:write flops:write");

    /// <summary>A list of typical entries (a 43-character digest, a job name, the default scope) filling this fraction of a ConfigMap.</summary>
    private static LegacyTokenList Filled(double fraction)
    {
        var entries = new List<LegacyTokenEntry>();
        var perEntry = new LegacyTokenList([Typical(0), Typical(1)]).Serialize().Length - new LegacyTokenList([Typical(0)]).Serialize().Length;
        var count = (int)(DocumentLimits.ConfigMapBytes * fraction / perEntry);
        for (var i = 0; i < count; i++)
        {
            entries.Add(Typical(i));
        }

        return new LegacyTokenList(entries);
    }

    [Fact]
    public async Task Legacy_NewJobsStayOpaque_LegacyJobsAreNeverRefreshed()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var token = _h.TokenOf("job-1");

        _h.Time.Advance(TimeSpan.FromHours(2));
        await CutoverHarness.PassAsync(legacy);

        Assert.Equal(token, _h.TokenOf("job-1"));
        Assert.Null(_h.EntryOf(token)!.Until);
    }

    [Fact]
    public async Task Converge_EntryOfAnUnknownJob_EndsAfterTheGrace_AStartingJobKeepsItsEntry()
    {
        var legacy = await _h.StartManagerAsync(stateless: false);
        await _h.LegacyTokens.UpdateAsync(l => l.Add(new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "orphan", "s")), CancellationToken.None);
        await CutoverHarness.StartAsync(legacy, "job-1");
        var token = _h.TokenOf("job-1");

        await legacy.ConvergeLegacyTokensAsync(CancellationToken.None);

        Assert.Equal((_h.Time.GetUtcNow() + _h.Grace).ToUnixTimeSeconds(), _h.List.Entries.Single(e => e.Sub == "orphan").Until);
        Assert.Null(_h.EntryOf(token)!.Until);
    }
}
