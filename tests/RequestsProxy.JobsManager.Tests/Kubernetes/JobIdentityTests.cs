using k8s;
using k8s.Models;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>
/// A Job is the jobs-manager's by its uid, not by its name or labels (anyone who may create Jobs in a job
/// namespace can set our labels): on the FAKE API server — which cannot run a second tenant's controller —
/// our Job is deleted behind the jobs-manager's back and a Job of the same name with our labels created in its
/// place. It gets no token, is not refreshed, finished or deleted on our job's behalf, before or after a
/// restart; an entry from before uids were recorded takes the uid of its first match by name, once.
/// </summary>
public sealed class JobIdentityTests
{
    private const string Ns = KubernetesHarness.JobsNamespace;
    private const string StrangerUid = "0000-stranger";

    [Fact]
    public async Task Start_TheCreatedJobsUidIsInTheLedger()
    {
        await using var k = await KubernetesHarness.StartAsync();

        await k.Core.StartAsync("job-1");

        var uid = k.Fake.Find<V1Job>(Ns, "job-1")!.Metadata.Uid;
        Assert.False(string.IsNullOrEmpty(uid));
        Assert.Equal(uid, Ledger(k).Find("job-1")!.Uid);
        Assert.Equal(uid, k.Core.Manager.Table.Jobs.Single().Uid);
    }

    [Fact]
    public async Task Sync_OurJobReplacedByALabelledStranger_MissingNotRefreshedNoTokenForIt()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var ours = await k.Core.StartAsync("job-1");
        await ReplaceWithStrangerAsync(k, "job-1", finished: false);
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));

        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(0, await k.Core.Manager.RefreshAsync(CancellationToken.None));

        Assert.Equal(JobState.Missing, k.Core.Manager.Get("job-1")!.State);
        Assert.Equal(ours.Token!.Jti, k.Core.Manager.Get("job-1")!.Token!.Jti);
        Assert.Null(k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token"));
        var notOurs = Assert.Single(k.Core.Log.GetSnapshot(), l => l.Id.Id == 117);
        Assert.Contains($"(uid {StrangerUid}) is not the job the jobs-manager knows by that name", notOurs.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_JobReplacedBetweenPasses_TheStrangerGetsNoToken()
    {
        await using var k = await KubernetesHarness.StartAsync();
        await k.Core.StartAsync("job-1");
        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        await ReplaceWithStrangerAsync(k, "job-1", finished: false);

        // Still taken for running (no pass since): the delivery reads the Job and refuses another uid.
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(0, await k.Core.Manager.RefreshAsync(CancellationToken.None));

        Assert.Null(k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token"));
        Assert.DoesNotContain(k.Fake.Requests, r => r is { Resource: "secrets", Verb: "create" or "update", Name: "job-1-requests-proxy-token" } && r.StatusCode < 300
            && r.Body.Contains(StrangerUid, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Finished_AStrangersFinishedJobUnderOurName_RevokesNothingOfOursAsFinished()
    {
        await using var k = await KubernetesHarness.StartAsync();
        await k.Core.StartAsync("job-1");
        await ReplaceWithStrangerAsync(k, "job-1", finished: true);
        k.Core.Time.Advance(TimeSpan.FromSeconds(1));

        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(0, await k.Core.Manager.RevokeFinishedAsync(CancellationToken.None));

        // Ours is missing (not "succeeded"): a DELETE revokes it, and leaves the stranger's Job alone.
        Assert.Equal(JobState.Missing, k.Core.Manager.Get("job-1")!.State);
        var stopped = await k.Core.Manager.StopAsync("job-1", CancellationToken.None);
        Assert.True(stopped.Succeeded, stopped.Message);
        Assert.Equal(1, stopped.Value!.Revoked);
        Assert.Equal(StrangerUid, k.Fake.Find<V1Job>(Ns, "job-1")!.Metadata.Uid);
        Assert.Contains(k.Fake.Requests, r => r is { Verb: "delete", Resource: "jobs", Name: "job-1", StatusCode: 409 });
        Assert.Null(k.Core.Manager.Get("job-1"));
    }

    [Fact]
    public async Task Restore_JobReplacedWhileTheJobsManagerWasDown_OursRevokedTheStrangerUntouched()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var ours = await k.Core.StartAsync("job-1");
        await ReplaceWithStrangerAsync(k, "job-1", finished: false);

        var restarted = k.Restart();
        Assert.True(await restarted.RestoreAsync(CancellationToken.None), restarted.RestoreProblem);

        // Gone (its uid is nowhere): revoked and forgotten, as a Job deleted while no jobs-manager ran.
        Assert.Null(restarted.Get("job-1"));
        Assert.Equal([ours.Token!.Jti], k.RevokedList().Entries.Select(e => e.Jti));
        Assert.Null(Ledger(k).Find("job-1"));
        Assert.Equal(StrangerUid, k.Fake.Find<V1Job>(Ns, "job-1")!.Metadata.Uid);
        Assert.Null(k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token"));
    }

    [Fact]
    public async Task Restore_SameJob_RestoredByItsUidWithItsToken()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var ours = await k.Core.StartAsync("job-1");

        var restarted = k.Restart();
        Assert.True(await restarted.RestoreAsync(CancellationToken.None), restarted.RestoreProblem);

        // Pending: the fake runs no Job controller, so the Job never reports a running pod.
        Assert.Equal((JobState.Pending, ours.Token!.Jti), (restarted.Get("job-1")!.State, restarted.Get("job-1")!.Token!.Jti));
        Assert.Empty(k.RevokedList().Entries);
    }

    [Fact]
    public async Task Restore_EntryFromBeforeUids_UidFilledInOnceOnTheFirstMatchByName_ThenHeldToIt()
    {
        var ledger = $$"""
            {"version":1,"jobs":[{"name":"old-2","createdAt":"2025-12-31T23:00:00+00:00","image":"trainer:1","command":[],"args":[],"scope":"results:write",
              "tokensIssued":1,"currentJti":"jti-old-2","tokensRevoked":false,"namespace":"{{Ns}}",
              "tokens":[{"jti":"jti-old-2","kid":"v1","sub":"old-2","iat":1767225600,"exp":1767229200}]}]}
            """;
        const string Uid = "1111-the-real-one";
        await using var k = await KubernetesHarness.StartAsync(ledger: ledger, seed: fake => fake.Seed(LabelledJob("old-2", Uid, finished: false)));

        Assert.Equal(JobState.Running, k.Core.Manager.Get("old-2")!.State);
        Assert.Equal(Uid, Ledger(k).Find("old-2")!.Uid);
        var identified = Assert.Single(k.Core.Log.GetSnapshot(), l => l.Id.Id == 118);
        Assert.Contains($"matched by name to the Job of uid {Uid} in namespace {Ns}, recorded", identified.Message, StringComparison.Ordinal);

        // From then on only that Job is it: a replacement under the name is a stranger.
        await ReplaceWithStrangerAsync(k, "old-2", finished: false);
        k.Core.Time.Advance(TimeSpan.FromSeconds(1));
        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(JobState.Missing, k.Core.Manager.Get("old-2")!.State);
        Assert.Equal(Uid, Ledger(k).Find("old-2")!.Uid);
        Assert.Single(k.Core.Log.GetSnapshot(), l => l.Id.Id == 118);
    }

    [Fact]
    public async Task Restore_OutOfScopeJobWithRecordedUid_AStrangerThereIsTakenForGone()
    {
        // The release-namespace layout, with name-scoped rights left: the uid decides, not the labels (the stranger copies them).
        const string Release = KubernetesHarness.Namespace;
        var ledger = """
            {"version":1,"jobs":[{"name":"old-1","createdAt":"2025-12-31T23:00:00+00:00","image":"trainer:1","command":[],"args":[],"scope":"results:write",
              "tokensIssued":1,"currentJti":"jti-old-1","tokensRevoked":false,"uid":"2222-ours",
              "tokens":[{"jti":"jti-old-1","kid":"v1","sub":"old-1","iat":1767225600,"exp":1767229200}]}]}
            """;
        FakeRbacRule[] rights = [new(["get", "delete"], ["batch"], ["jobs"], ["old-1"], Release)];
        await using var k = await KubernetesHarness.StartAsync(ledger: ledger, extraRules: rights,
            seed: fake => fake.Seed(LabelledJob("old-1", StrangerUid, finished: false, Release)));

        Assert.Null(k.Core.Manager.Get("old-1"));
        Assert.Equal(["jti-old-1"], k.RevokedList().Entries.Select(e => e.Jti));
        Assert.Equal(StrangerUid, k.Fake.Find<V1Job>(Release, "old-1")!.Metadata.Uid);
    }

    /// <summary>Deletes our Job as its owner would (the garbage collector takes its token Secret), then creates another of that name with our labels.</summary>
    private static async Task ReplaceWithStrangerAsync(KubernetesHarness k, string name, bool finished)
    {
        await k.Client.BatchV1.DeleteNamespacedJobAsync(name, Ns, new V1DeleteOptions { PropagationPolicy = "Background" });
        Assert.Null(k.Fake.Find<V1Secret>(Ns, $"{name}-requests-proxy-token"));
        k.Fake.Seed(LabelledJob(name, StrangerUid, finished));
    }

    private static V1Job LabelledJob(string name, string uid, bool finished, string ns = Ns) => new()
    {
        ApiVersion = "batch/v1",
        Kind = "Job",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = uid, Labels = KubernetesNames.Labels(name, KubernetesHarness.Release) },
        Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "t", Image = "evil:1" }] } } },
        Status = finished
            ? new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] }
            : new V1JobStatus { Active = 1 },
    };

    private static JobLedgerDocument Ledger(KubernetesHarness k)
    {
        Assert.True(JobLedgerDocument.TryParse(System.Text.Encoding.UTF8.GetBytes(k.Fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap)!.Data["jobs.json"]),
            out var document, out var error), error);
        return document;
    }
}
