using k8s.Models;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>
/// An upgrade from the release-namespace layout (issue 14) on the FAKE API server: the ledger holds a
/// job written before job namespaces existed (no namespace: it runs in the release namespace), whose
/// Job the new chart's RBAC no longer lets the jobs-manager see. Out of scope is not gone: the job keeps
/// its tokens and is reported until an operator decides; with rights there it is still served there.
/// </summary>
public sealed class ReleaseNamespaceUpgradeTests
{
    private const string Release = KubernetesHarness.Namespace;
    private const string Jti = "pEsJQHQT0e75NXcYfd07kw";

    /// <summary>A ledger entry of the old layout: no "namespace"; its token was issued at the harness clock's start and lives an hour.</summary>
    private static readonly string OldLedger = $$"""
        {"version":1,"jobs":[{"name":"old-1","createdAt":"2025-12-31T23:00:00+00:00","image":"trainer:1","command":[],"args":[],"scope":"results:write",
          "tokensIssued":1,"currentJti":"{{Jti}}","tokensRevoked":false,
          "tokens":[{"jti":"{{Jti}}","kid":"v1","sub":"old-1","iat":1767225600,"exp":1767229200}]}]}
        """;

    [Fact]
    public async Task Restore_OldLayoutJobTheChartNoLongerReaches_KeptWithItsTokensUnreachableAndReported()
    {
        using var meters = new TestMeterFactory();
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger, seed: SeedOldJob);

        var view = k.Core.Manager.Get("old-1")!;
        Assert.Equal((JobState.Unreachable, Release, Jti), (view.State, view.Namespace, view.Token!.Jti));
        Assert.False(view.TokensRevoked);
        Assert.Contains("namespace 'training' is not one of the jobs-manager's job namespaces and it may not read Jobs there", view.Problem, StringComparison.Ordinal);
        Assert.Contains("DELETE /v1/jobs/old-1 revokes its tokens", view.Problem, StringComparison.Ordinal);
        Assert.Empty(ReadList(k).Entries);
        Assert.Contains("old-1", k.Fake.Find<V1ConfigMap>(Release, KubernetesHarness.StateConfigMap)!.Data["jobs.json"], StringComparison.Ordinal);
        Assert.Contains(k.Fake.Requests, r => r is { Verb: "get", Resource: "jobs", Namespace: Release, Name: "old-1", StatusCode: 403 });

        // Not refreshed (nothing it may write there), still unreachable on later passes, counted.
        using var gauge = new MetricCollector<int>(k.Core.MeterFactory, JobsManagerMetrics.MeterName, "jobs_manager.jobs.out_of_scope");
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(0, await k.Core.Manager.RefreshAsync(CancellationToken.None));
        Assert.Equal(JobState.Unreachable, k.Core.Manager.Get("old-1")!.State);
        gauge.RecordObservableInstruments();
        Assert.Contains(gauge.GetMeasurementSnapshot(), m => m.Value == 1 && (string?)m.Tags["reachable"] == "false");
        Assert.DoesNotContain(k.Fake.Requests, r => r is { Resource: "secrets", Namespace: Release } && r.Verb != "get");

        // The operator decides: DELETE revokes its tokens and forgets it; the Job is theirs to delete.
        var stopped = await k.Core.Manager.StopAsync("old-1", CancellationToken.None);
        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Equal((true, 1), (stopped.Value!.Known, stopped.Value.Revoked));
        Assert.Equal([Jti], ReadList(k).Entries.Select(e => e.Jti));
        Assert.Null(k.Core.Manager.Get("old-1"));
        Assert.NotNull(k.Fake.Find<V1Job>(Release, "old-1"));
    }

    [Fact]
    public async Task Restore_OldLayoutJobWithRightsStillThere_RefreshedAndStoppedInItsOwnNamespace()
    {
        // The operator kept (or granted) name-scoped rights on that Job and its token Secret in the release namespace.
        FakeRbacRule[] rights =
        [
            new(["get", "delete"], ["batch"], ["jobs"], ["old-1"], Release),
            new(["update"], [""], ["secrets"], ["old-1-requests-proxy-token"], Release),
        ];
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger, seed: SeedOldJob, extraRules: rights);

        var view = k.Core.Manager.Get("old-1")!;
        Assert.Equal((JobState.Running, Release), (view.State, view.Namespace));
        Assert.Contains("it is still read, refreshed and stopped there", view.Problem, StringComparison.Ordinal);

        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(1, await k.Core.Manager.RefreshAsync(CancellationToken.None));
        var current = k.Core.Manager.Get("old-1")!.Token!.Jti;
        Assert.NotEqual(Jti, current);
        var secret = k.Fake.Find<V1Secret>(Release, "old-1-requests-proxy-token")!;
        Assert.Equal(current, secret.Metadata.Annotations[KubernetesNames.JtiAnnotation]);
        Assert.Null(k.Fake.Find<V1Secret>(KubernetesHarness.JobsNamespace, "old-1-requests-proxy-token"));
        Assert.Contains($"\"namespace\":\"{Release}\"", k.Fake.Find<V1ConfigMap>(Release, KubernetesHarness.StateConfigMap)!.Data["jobs.json"], StringComparison.Ordinal);

        var stopped = await k.Core.Manager.StopAsync("old-1", CancellationToken.None);
        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Equal(2, stopped.Value!.Revoked);
        Assert.Null(k.Fake.Find<V1Job>(Release, "old-1"));
        Assert.DoesNotContain(k.Fake.Requests, r => r.StatusCode == 403);
    }

    [Fact]
    public async Task Restore_OldLayoutJobCertainlyGone_RevokedAndForgotten()
    {
        // With the right to look, a 404 is a Job deleted while no jobs-manager ran: revoked as always.
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger, extraRules: [new(["get"], ["batch"], ["jobs"], ["old-1"], Release)]);

        Assert.Null(k.Core.Manager.Get("old-1"));
        Assert.Equal([Jti], ReadList(k).Entries.Select(e => e.Jti));
    }

    [Fact]
    public async Task Restore_OldLayoutJobOfAnotherRelease_TakenForGone()
    {
        // A Job of that name that is not ours (another release's labels) does not keep our tokens alive.
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger, extraRules: [new(["get"], ["batch"], ["jobs"], ["old-1"], Release)],
            seed: fake => fake.Seed(new V1Job
            {
                Metadata = new V1ObjectMeta { Name = "old-1", NamespaceProperty = Release, Labels = KubernetesNames.Labels("old-1", "another") },
                Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { Containers = [new V1Container { Name = "t", Image = "x" }] } } },
                Status = new V1JobStatus { Active = 1 },
            }));

        Assert.Null(k.Core.Manager.Get("old-1"));
        Assert.Single(ReadList(k).Entries);
    }

    [Fact]
    public async Task KeyUsage_UnreachableRevokedEntry_DoesNotPinItsKid_DroppedFromTheLedgerOnceItsTokensExpired()
    {
        // Unreachable and revoked (a DELETE's revocation went through, or the Job finished while rights were still there).
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger.Replace("\"tokensRevoked\":false", "\"tokensRevoked\":true", StringComparison.Ordinal), seed: SeedOldJob);
        Assert.Equal((JobState.Unreachable, true), (k.Core.Manager.Get("old-1")!.State, k.Core.Manager.Get("old-1")!.TokensRevoked));
        var v2 = PromoteNewKey(k);
        using var gauge = new MetricCollector<int>(k.Core.MeterFactory, JobsManagerMetrics.MeterName, "jobs_manager.key_usage.tokens");

        var v1 = Usage(k, v2).Keys.Single(u => u.Kid == "v1");
        Assert.Equal((0, 1, 0, true), (v1.LiveTokens, v1.RevokedTokens, v1.UnreachableTokens, v1.SafeToRetire));
        gauge.RecordObservableInstruments();
        Assert.Contains(gauge.GetMeasurementSnapshot(), m => m.Value == 1 && (string?)m.Tags["kid"] == "v1" && (string?)m.Tags["state"] == "revoked");
        Assert.Contains(gauge.GetMeasurementSnapshot(), m => m.Value == 0 && (string?)m.Tags["kid"] == "v1" && (string?)m.Tags["state"] == "live");

        // Kept (listed, its jti revoked) while its token could still be presented; dropped with the revocation list's entry.
        k.Core.Time.Advance(TimeSpan.FromMinutes(59));
        await k.Core.Manager.PruneAsync(CancellationToken.None);
        Assert.NotNull(k.Core.Manager.Get("old-1"));

        using var dropped = new MetricCollector<long>(k.Core.MeterFactory, JobsManagerMetrics.MeterName, "jobs_manager.ledger.entries_dropped");
        k.Core.Time.Advance(TimeSpan.FromMinutes(1) + k.Core.Options.Leeway);
        await k.Core.Manager.PruneAsync(CancellationToken.None);

        Assert.Null(k.Core.Manager.Get("old-1"));
        Assert.DoesNotContain("old-1", k.Fake.Find<V1ConfigMap>(Release, KubernetesHarness.StateConfigMap)!.Data["jobs.json"], StringComparison.Ordinal);
        var log = Assert.Single(k.Core.Log.GetSnapshot(), l => l.Id.Id == 109);
        Assert.Contains("Dropped job old-1 (namespace training, not a job namespace, unreachable) from the job ledger: every token it held (revoked) expired", log.Message, StringComparison.Ordinal);
        dropped.RecordObservableInstruments();
        Assert.Equal(1, dropped.LastMeasurement!.Value);
        Assert.DoesNotContain(Usage(k, v2).Keys, u => u.Kid == "v1" && (u.LiveTokens > 0 || u.RevokedTokens > 0));
        Assert.NotNull(k.Fake.Find<V1Job>(Release, "old-1"));
    }

    [Fact]
    public async Task KeyUsage_UnreachableLiveEntry_PinsItsKidCountedAsUnreachable_UntilItsJtiIsRevoked()
    {
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger, seed: SeedOldJob);
        var v2 = PromoteNewKey(k);

        // Its token still verifies (nothing may refresh or revoke it there): retiring v1 would make it a 401.
        var v1 = Usage(k, v2).Keys.Single(u => u.Kid == "v1");
        Assert.Equal((1, 0, 1, false), (v1.LiveTokens, v1.RevokedTokens, v1.UnreachableTokens, v1.SafeToRetire));

        // Revoked by hand (rpctl revoke): a revoked token needs no key, whatever the job's record says.
        await k.Core.Ledger.AddAsync([new RevocationEntry(Jti, 1767229200, "old-1")], CancellationToken.None);
        v1 = Usage(k, v2).Keys.Single(u => u.Kid == "v1");
        Assert.Equal((0, 1, 0, true), (v1.LiveTokens, v1.RevokedTokens, v1.UnreachableTokens, v1.SafeToRetire));
        Assert.False(k.Core.Manager.Get("old-1")!.TokensRevoked);

        // Unrevoked or not, an unreachable entry whose every token expired has nothing left to refresh or revoke.
        k.Core.Time.Advance(TimeSpan.FromHours(1) + k.Core.Options.Leeway);
        await k.Core.Manager.PruneAsync(CancellationToken.None);
        Assert.Null(k.Core.Manager.Get("old-1"));
        Assert.Contains(k.Core.Log.GetSnapshot(), l => l.Id.Id == 109 && l.Message.Contains("(not revoked by the jobs-manager)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prune_ReachableOutOfScopeFinishedJob_KeptUntilDelete()
    {
        // Only unreachable entries are dropped: a finished Job the jobs-manager can still read stays listed (its logs) until DELETE.
        FakeRbacRule[] rights = [new(["get", "delete"], ["batch"], ["jobs"], ["old-1"], Release)];
        await using var k = await KubernetesHarness.StartAsync(ledger: OldLedger.Replace("\"tokensRevoked\":false", "\"tokensRevoked\":true", StringComparison.Ordinal),
            seed: SeedOldJob, extraRules: rights);

        k.Core.Time.Advance(TimeSpan.FromHours(2));
        await k.Core.Manager.PruneAsync(CancellationToken.None);

        Assert.NotNull(k.Core.Manager.Get("old-1"));
        Assert.DoesNotContain(k.Core.Log.GetSnapshot(), l => l.Id.Id == 109);
    }

    private static string PromoteNewKey(KubernetesHarness k)
    {
        var kid = k.Core.Keys.AddKey();
        k.Core.Keys.Promote(kid);
        k.Core.KeySource.Reload();
        return kid;
    }

    /// <summary>GET /v1/keys/usage as the API answers it (safeToRetire included).</summary>
    private static RequestsProxy.JobsApi.KeyUsageResponse Usage(KubernetesHarness k, string active) =>
        RequestsProxy.JobsManager.Api.ApiText.KeyUsage(k.Core.Manager.KeyUsage(k.Core.KeySource.Current!.Kids), k.Core.Options.TokenLifetime, k.Core.Options.Leeway) is var usage && usage.ActiveKid == active
            ? usage
            : throw new InvalidOperationException($"the active kid is {usage.ActiveKid}, not {active}");

    /// <summary>The old layout's Job and token Secret, in the release namespace, as the previous chart left them.</summary>
    private static void SeedOldJob(FakeKubernetesApiServer fake)
    {
        fake.Seed(new V1Job
        {
            Metadata = new V1ObjectMeta { Name = "old-1", NamespaceProperty = Release, Labels = KubernetesNames.Labels("old-1", KubernetesHarness.Release) },
            Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "t", Image = "trainer:1" }] } } },
            Status = new V1JobStatus { Active = 1 },
        });
        fake.SeedSecret(Release, "old-1-requests-proxy-token", new Dictionary<string, string> { ["token"] = "the old token" });
    }

    private static RevocationList ReadList(KubernetesHarness k) => k.RevokedList();
}
