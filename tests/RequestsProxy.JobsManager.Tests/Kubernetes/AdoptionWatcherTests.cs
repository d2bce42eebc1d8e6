using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Jobs.Adoption;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>
/// The watch of labelled Jobs against the FAKE API server, for what a real cluster shows only by
/// chance: a watch the server ends (resumed from the last resourceVersion), a resourceVersion too
/// old (410 Gone: re-listed, and a Job deleted while events were lost is revoked), all with the
/// chart's RBAC of a job namespace (Jobs list/watch/delete, Secrets create/update). The real watch on a real API server:
/// tests/RequestsProxy.Cluster.Tests (TrainingWorkloadTests).
/// </summary>
public sealed class AdoptionWatcherTests : IAsyncLifetime
{
    private const string Ns = KubernetesHarness.JobsNamespace;

    private KubernetesHarness _k = null!;
    private AdoptionCache _cache = null!;
    private JobManager _manager = null!;
    private AdoptionWatcher? _watcher;

    public async Task InitializeAsync()
    {
        _k = await KubernetesHarness.StartAsync();
        _cache = new AdoptionCache([Ns]);
        var core = _k.Core;
        var metrics = new JobsManagerMetrics(core.MeterFactory);
        _manager = new JobManager(core.Runtime, core.Credentials, core.Ledger, core.JobLedger, core.Options, core.Time, metrics, JobAudit.None,
            NullLogger<JobManager>.Instance, _cache, new KubernetesAdoptionDelivery(_k.Client, core.Options, TimeProvider.System, NullLogger<KubernetesAdoptionDelivery>.Instance));
    }

    public async Task DisposeAsync()
    {
        if (_watcher is not null)
        {
            await _watcher.StopAsync(CancellationToken.None);
            _watcher.Dispose();
        }

        await _k.DisposeAsync();
    }

    [Fact]
    public async Task Watch_PrivilegedLabelledJob_NoTokenWarningEventOnTheJobAndListedRefused()
    {
        _cache.Replace(Ns, []);
        Assert.True(await _manager.RestoreAsync(CancellationToken.None), _manager.RestoreProblem);
        var evil = Seed("evil", pod => pod.Containers[0].SecurityContext = new V1SecurityContext { Privileged = true });
        Seed("fine");
        await StartWatcherAsync();

        await Eventually.TrueAsync(() => _k.Fake.Find<V1Secret>(Ns, "fine-requests-proxy-token") is not null, "the valid Job adopted");
        await Eventually.TrueAsync(() => _k.Fake.FindAll("v1", "Event", Ns).Count > 0, "a Warning Event on the refused Job");

        Assert.Null(_k.Fake.Find<V1Secret>(Ns, "evil-requests-proxy-token"));
        Assert.DoesNotContain(_k.Fake.Requests, r => r is { Verb: "create", Resource: "secrets" } && r.Body.Contains("evil-requests-proxy-token", StringComparison.Ordinal));
        var warning = k8s.KubernetesJson.Deserialize<Corev1Event>(Assert.Single(_k.Fake.FindAll("v1", "Event", Ns)).ToJsonString());
        Assert.Equal(("Warning", "RequestsProxyTokenRefused", "Job", "evil", evil.Metadata.Uid), (warning.Type, warning.Reason, warning.InvolvedObject.Kind, warning.InvolvedObject.Name, warning.InvolvedObject.Uid));
        Assert.Contains("'spec.template.spec.containers[0].securityContext.privileged' must not be true", warning.Message, StringComparison.Ordinal);
        var refused = _manager.Get("evil")!;
        Assert.Equal((JobState.Refused, true, Ns, 0), (refused.State, refused.Adopted, refused.Namespace, refused.TokensIssued));
        Assert.Null(refused.Token);
        Assert.Contains("'spec.template.spec.containers[0].securityContext.privileged' must not be true", refused.Problem, StringComparison.Ordinal);
        Assert.Contains(_manager.List(), j => j.Name == "evil" && j.State == JobState.Refused);
        Assert.DoesNotContain(_k.Fake.Requests, r => r.StatusCode == 403);

        // The Job goes: so does its refusal.
        _k.Fake.RbacRules = null;
        await _k.Client.BatchV1.DeleteNamespacedJobAsync("evil", Ns);
        _k.Fake.RbacRules = KubernetesHarness.ChartRules();
        _cache.Remove(new AdoptedJob(Ns, "evil", evil.Metadata.Uid));
        await _manager.ReconcileAdoptedAsync(CancellationToken.None);
        Assert.Null(_manager.Get("evil"));
    }

    [Fact]
    public async Task Watch_EndedThenExpired_ResumesFromItsVersionRelistsAndRevokesWhatWentMeanwhile()
    {
        // Restored first (the watch's first list then adopts at once).
        _cache.Replace(Ns, []);
        Assert.True(await _manager.RestoreAsync(CancellationToken.None), _manager.RestoreProblem);
        Seed("train-a");
        await StartWatcherAsync();
        await Eventually.TrueAsync(() => _k.Fake.Find<V1Secret>(Ns, "train-a-requests-proxy-token") is not null, "train-a adopted from the first list");
        var jtiA = _manager.Get("train-a")!.Token!.Jti;
        var owner = _k.Fake.Find<V1Secret>(Ns, "train-a-requests-proxy-token")!.Metadata.OwnerReferences.Single();
        Assert.Equal(("Job", "train-a", _k.Fake.Find<V1Job>(Ns, "train-a")!.Metadata.Uid), (owner.Kind, owner.Name, owner.Uid));

        // train-a is deleted while no event reaches us; train-b arrives through the watch, which then ends;
        // the resumed watch is told its version is too old.
        await _k.Client.BatchV1.DeleteNamespacedJobAsync("train-a", Ns);
        var b = Seed("train-b");
        var bVersion = b.Metadata.ResourceVersion;
        _k.Fake.EnqueueWatch(_k.Fake.WatchEvent("ADDED", _k.Fake.Find("batch/v1", "Job", Ns, "train-b")!));
        _k.Fake.EnqueueWatch(FakeKubernetesApiServer.WatchExpired(bVersion));

        await Eventually.TrueAsync(() => _manager.Get("train-b") is { Adopted: true } && _manager.Get("train-a") is null, "train-b adopted and train-a forgotten", TimeSpan.FromSeconds(30));

        var revoked = await _k.Core.Ledger.ReadAsync(CancellationToken.None);
        Assert.True(revoked.Document.Contains(jtiA), "the token of the Job deleted during the lost events must be revoked");
        var watches = _k.Fake.Requests.Where(r => r.Verb == "watch").ToList();
        Assert.Contains(watches, r => r.QueryString.Contains($"resourceVersion={bVersion}", StringComparison.Ordinal));
        var expiredAt = _k.Fake.Requests.ToList().FindIndex(r => r.Verb == "watch" && r.QueryString.Contains($"resourceVersion={bVersion}", StringComparison.Ordinal));
        Assert.Contains(_k.Fake.Requests.Skip(expiredAt + 1), r => r.Verb == "list" && r.Resource == "jobs" && r.QueryString.Contains("labelSelector=requests-proxy.io", StringComparison.Ordinal));
        Assert.True(_watcher!.Relists >= 1);
    }

    [Fact]
    public async Task Restore_AfterTheFirstList_AdoptedJobKeptAndOneLabelledMeanwhileAdopted()
    {
        // A jobs-manager that adopted train-a, then stopped; train-c was labelled while it was down.
        _cache.Replace(Ns, []);
        Assert.True(await _manager.RestoreAsync(CancellationToken.None), _manager.RestoreProblem);
        Seed("train-a");
        await StartWatcherAsync();
        await Eventually.TrueAsync(() => _manager.Get("train-a") is { Adopted: true }, "train-a adopted");
        var jti = _manager.Get("train-a")!.Token!.Jti;
        await _watcher!.StopAsync(CancellationToken.None);
        Seed("train-c");

        var cache = new AdoptionCache([Ns]);
        var core = _k.Core;
        var manager = new JobManager(new KubernetesJobRuntime(_k.Client, core.Options, NullLogger<KubernetesJobRuntime>.Instance), core.Credentials, core.Ledger, core.JobLedger,
            core.Options, core.Time, new JobsManagerMetrics(core.MeterFactory), JobAudit.None, NullLogger<JobManager>.Instance, cache,
            new KubernetesAdoptionDelivery(_k.Client, core.Options, TimeProvider.System, NullLogger<KubernetesAdoptionDelivery>.Instance));
        using var watcher = new AdoptionWatcher(_k.Client, cache, manager, core.Options, TimeProvider.System, NullLogger<AdoptionWatcher>.Instance);
        await watcher.StartAsync(CancellationToken.None);
        try
        {
            Assert.True(await manager.RestoreAsync(CancellationToken.None), manager.RestoreProblem);
            await manager.ReconcileAdoptedAsync(CancellationToken.None);

            var a = manager.Get("train-a")!;
            Assert.Equal((jti, 1, true), (a.Token!.Jti, a.TokensIssued, a.Adopted));
            Assert.True(manager.Get("train-c") is { Adopted: true, TokensIssued: 1 });
            Assert.NotNull(_k.Fake.Find<V1Secret>(Ns, "train-c-requests-proxy-token"));
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>A labelled Job as docs/jobs-manager.md shows it (no service-account token, its token Secret mounted); <paramref name="change"/> spoils it.</summary>
    private V1Job Seed(string name, Action<V1PodSpec>? change = null)
    {
        var pod = new V1PodSpec
        {
            RestartPolicy = "Never",
            AutomountServiceAccountToken = false,
            Containers = [new V1Container
            {
                Name = "t", Image = "trainer:1",
                VolumeMounts = [new V1VolumeMount { Name = "requests-proxy-token", MountPath = "/var/run/requests-proxy/token", ReadOnlyProperty = true }],
            }],
            Volumes = [new V1Volume { Name = "requests-proxy-token", Secret = new V1SecretVolumeSource { SecretName = $"{name}-requests-proxy-token" } }],
        };
        change?.Invoke(pod);
        return _k.Fake.Seed(new V1Job
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns, Labels = new Dictionary<string, string> { [AdoptionNames.Label] = "true" } },
            Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = pod } },
            Status = new V1JobStatus { Active = 1 },
        });
    }

    private async Task StartWatcherAsync()
    {
        _watcher = new AdoptionWatcher(_k.Client, _cache, _manager, _k.Core.Options, TimeProvider.System, NullLogger<AdoptionWatcher>.Instance);
        await _watcher.StartAsync(CancellationToken.None);
    }
}
