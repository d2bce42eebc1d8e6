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
