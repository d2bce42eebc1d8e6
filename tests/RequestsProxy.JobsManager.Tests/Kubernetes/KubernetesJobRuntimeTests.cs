using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>The Kubernetes runtime against the FAKE API server (real HTTP, real KubernetesClient, chart RBAC loaded).</summary>
public sealed class KubernetesJobRuntimeTests
{
    private const string Ns = KubernetesHarness.JobsNamespace;

    [Fact]
    public async Task Start_CreatesHardenedJobThenTokenSecretOwnedByIt()
    {
        await using var k = await KubernetesHarness.StartAsync();

        var view = await k.Core.StartAsync("job-1");

        var job = k.Fake.Find<V1Job>(Ns, "job-1")!;
        Assert.Equal("true", job.Metadata.Labels[KubernetesNames.TrainingJobLabel]);
        Assert.Equal(0, job.Spec.BackoffLimit);
        var pod = job.Spec.Template;
        Assert.Equal("true", pod.Metadata.Labels["requests-proxy.io/training-job"]);
        Assert.False(pod.Spec.AutomountServiceAccountToken);
        Assert.Equal("Never", pod.Spec.RestartPolicy);
        Assert.True(pod.Spec.SecurityContext.RunAsNonRoot);
        Assert.Equal("RuntimeDefault", pod.Spec.SecurityContext.SeccompProfile.Type);
        var container = Assert.Single(pod.Spec.Containers);
        Assert.Equal("trainer:1", container.Image);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.True(container.SecurityContext.RunAsNonRoot);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Equal("RuntimeDefault", container.SecurityContext.SeccompProfile.Type);
        var env = container.Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal("http://rel-requests-proxy.training.svc:8888", env["REQUESTS_PROXY_URL"]);
        Assert.Equal("/var/run/requests-proxy/token/token", env["REQUESTS_PROXY_TOKEN_FILE"]);
        var tokenEnv = Assert.Single(container.Env, e => e.Name == "REQUESTS_PROXY_TOKEN");
        Assert.Null(tokenEnv.Value);
        Assert.Equal(("job-1-requests-proxy-token", "token", false), (tokenEnv.ValueFrom.SecretKeyRef.Name, tokenEnv.ValueFrom.SecretKeyRef.Key, tokenEnv.ValueFrom.SecretKeyRef.Optional ?? true));
        var mount = Assert.Single(container.VolumeMounts, m => m.MountPath == "/var/run/requests-proxy/token");
        Assert.True(mount.ReadOnlyProperty);
        Assert.Null(mount.SubPath);
        var volume = Assert.Single(pod.Spec.Volumes, v => v.Name == mount.Name);
        Assert.Equal("job-1-requests-proxy-token", volume.Secret.SecretName);

        var secret = k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token")!;
        var owner = Assert.Single(secret.Metadata.OwnerReferences);
        Assert.Equal(("batch/v1", "Job", "job-1", job.Metadata.Uid, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller ?? false));
        Assert.Equal(view.Token!.Jti, secret.Metadata.Annotations[KubernetesNames.JtiAnnotation]);
        var claims = Validate(k, Encoding.ASCII.GetString(secret.Data["token"]));
        Assert.Equal(("job-1", view.Token.Jti, "v1"), (claims.Subject, claims.Jti, claims.Kid));

        // A dry-run probe of the Secret's name, the Job (the Secret needs its uid), then the Secret.
        var writes = k.Fake.Requests.Where(r => r.Verb == "create").Select(r => (r.Resource, r.QueryString.Contains("dryRun=All", StringComparison.Ordinal))).ToList();
        Assert.Equal([("secrets", true), ("jobs", false), ("secrets", false)], writes);

        // The probe carries the real Secret's labels: the Secret admission webhook's objectSelector skips it
        // (an unlabelled create by the jobs-manager would be denied there, never a 409).
        var probe = k.Fake.Requests.First(r => r is { Verb: "create", Resource: "secrets" } && r.QueryString.Contains("dryRun=All", StringComparison.Ordinal));
        var probeLabels = System.Text.Json.Nodes.JsonNode.Parse(probe.Body)!["metadata"]!["labels"]!;
        Assert.Equal(KubernetesNames.ManagedByValue, (string?)probeLabels[KubernetesNames.ManagedByLabel]);
        Assert.Equal(secret.Metadata.Labels.OrderBy(l => l.Key), probeLabels.AsObject().Select(l => KeyValuePair.Create(l.Key, (string)l.Value!)).OrderBy(l => l.Key));
    }

    [Fact]
    public async Task Refresh_ReplacesTheSecretWholeInPlace_NeverPatchesOrReads()
    {
        await using var k = await KubernetesHarness.StartAsync();
        await k.Core.StartAsync("job-1");
        var before = k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token")!;

        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(1, await k.Core.Manager.RefreshAsync(CancellationToken.None));

        var after = k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token")!;
        Assert.Equal(before.Metadata.Uid, after.Metadata.Uid);
        Assert.NotEqual(before.Data["token"], after.Data["token"]);
        var current = k.Core.Manager.Get("job-1")!.Token!;
        Assert.Equal(current.Jti, after.Metadata.Annotations[KubernetesNames.JtiAnnotation]);
        Assert.Equal(current.Jti, Validate(k, Encoding.ASCII.GetString(after.Data["token"])).Jti);
        Assert.Single(after.Metadata.OwnerReferences);
        Assert.Equal(before.Metadata.OwnerReferences.Single().Uid, after.Metadata.OwnerReferences.Single().Uid);
        Assert.Equal(before.Metadata.Labels, after.Metadata.Labels);
        Assert.Contains(k.Fake.Requests, r => r is { Verb: "update", Resource: "secrets", StatusCode: 200 });
        Assert.DoesNotContain(k.Fake.Requests, r => r.Resource == "secrets" && r.Verb is "patch" or "get" or "list" or "watch");
    }

    [Fact]
    public async Task Start_LeftoverTokenSecret_ConflictNamingIt_SecretUntouchedJobGone()
    {
        await using var k = await KubernetesHarness.StartAsync();
        k.Fake.SeedSecret(Ns, "job-1-requests-proxy-token", new Dictionary<string, string> { ["token"] = "an earlier job's" });
        var before = k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token")!;

        var result = await k.Core.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(JobError.Conflict, result.Error);
        Assert.Contains("a Secret named 'job-1-requests-proxy-token' already exists in namespace 'training-jobs'", result.Message, StringComparison.Ordinal);
        Assert.Contains("does not take over", result.Message, StringComparison.Ordinal);
        var after = k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token")!;
        Assert.Equal(before.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
        Assert.Null(after.Metadata.OwnerReferences);
        Assert.Equal("an earlier job's", Encoding.UTF8.GetString(after.Data["token"]));
        Assert.Null(k.Fake.Find<V1Job>(Ns, "job-1"));
        Assert.DoesNotContain(k.Fake.Requests, r => r is { Verb: "create", Resource: "jobs" });
        Assert.Null(k.Core.Manager.Get("job-1"));

        // The token minted for the failed start is revoked, and the name is free again once the Secret is gone.
        Assert.Single(ReadList(k).Entries);
        k.Fake.RbacRules = null; // the operator deletes it, with rights the jobs-manager has not
        await k.Client.CoreV1.DeleteNamespacedSecretAsync("job-1-requests-proxy-token", Ns);
        k.Fake.RbacRules = KubernetesHarness.ChartRules();
        Assert.True((await k.Core.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None)).Succeeded);
    }

    [Fact]
    public async Task Start_SecretAppearsBetweenDryRunAndCreate_ConflictNeverATakeover()
    {
        // Someone else's Secret of the token's name is created right after the dry-run probe said the name was free.
        FakeKubernetesApiServer? fake = null;
        V1Secret? theirs = null;
        var seeded = 0;
        using var race = new AfterResponse(response =>
        {
            if (response.RequestMessage is { Method.Method: "POST" } request && request.RequestUri!.AbsolutePath.EndsWith("/secrets", StringComparison.Ordinal)
                && request.RequestUri.Query.Contains("dryRun=All", StringComparison.Ordinal) && response.StatusCode == HttpStatusCode.Created
                && Interlocked.Exchange(ref seeded, 1) == 0)
            {
                theirs = fake!.SeedSecret(Ns, "job-1-requests-proxy-token", new Dictionary<string, string> { ["token"] = "someone else's" });
            }
        });
        await using var k = await KubernetesHarness.StartAsync(runtimeHandler: race);
        fake = k.Fake;
        k.Fake.ClearRequests();

        var result = await k.Core.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(1, seeded);
        Assert.Equal(JobError.Conflict, result.Error);
        Assert.Contains("a Secret named 'job-1-requests-proxy-token' already exists in namespace 'training-jobs'", result.Message, StringComparison.Ordinal);
        Assert.Contains("does not take over", result.Message, StringComparison.Ordinal);

        // The Secret is exactly as its owner left it: not replaced, not patched, not adopted by the Job.
        var secret = k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token")!;
        Assert.Equal(theirs!.Metadata.ResourceVersion, secret.Metadata.ResourceVersion);
        Assert.Null(secret.Metadata.OwnerReferences);
        Assert.Equal("someone else's", Encoding.UTF8.GetString(secret.Data["token"]));
        var calls = k.Fake.Requests.Where(r => r.Resource is "secrets" or "jobs").Select(r => (r.Verb, r.Resource, r.StatusCode, r.QueryString.Contains("dryRun=All", StringComparison.Ordinal))).ToList();
        Assert.Equal([("create", "secrets", 201, true), ("create", "jobs", 201, false), ("create", "secrets", 409, false), ("delete", "jobs", 200, false)], calls);

        // The Job created in between is gone again (no pod of it mounts that Secret), and the minted token is revoked.
        Assert.Null(k.Fake.Find<V1Job>(Ns, "job-1"));
        Assert.Null(k.Core.Manager.Get("job-1"));
        Assert.Single(ReadList(k).Entries);
    }

    [Fact]
    public async Task Start_NamespaceGiven_JobAndSecretThereStopAndRefreshFollow()
    {
        await using var k = await KubernetesHarness.StartAsync(jobNamespaces: [Ns, "team-b"]);

        var started = await k.Core.Manager.StartAsync(CoreHarness.Spec("job-b") with { Namespace = "team-b" }, CancellationToken.None);
        await k.Core.StartAsync("job-a");

        Assert.True(started.Succeeded, started.Message);
        Assert.Equal("team-b", started.Value!.Namespace);
        Assert.NotNull(k.Fake.Find<V1Job>("team-b", "job-b"));
        Assert.NotNull(k.Fake.Find<V1Secret>("team-b", "job-b-requests-proxy-token"));
        Assert.NotNull(k.Fake.Find<V1Job>(Ns, "job-a"));
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(2, await k.Core.Manager.RefreshAsync(CancellationToken.None));
        Assert.Equal(k.Core.Manager.Get("job-b")!.Token!.Jti, k.Fake.Find<V1Secret>("team-b", "job-b-requests-proxy-token")!.Metadata.Annotations[KubernetesNames.JtiAnnotation]);

        // A restarted jobs-manager finds it there again (the ledger keeps the namespace).
        var restarted = k.Restart();
        Assert.True(await restarted.RestoreAsync(CancellationToken.None), restarted.RestoreProblem);
        Assert.Equal("team-b", restarted.Get("job-b")!.Namespace);
        Assert.True((await restarted.StopAsync("job-b", CancellationToken.None)).Succeeded);
        Assert.Null(k.Fake.Find<V1Job>("team-b", "job-b"));
        Assert.NotNull(k.Fake.Find<V1Job>(Ns, "job-a"));
        Assert.DoesNotContain(k.Fake.Requests, r => r.StatusCode == 403);
    }

    [Fact]
    public async Task Start_ReleaseNamespaceNotAJobNamespace_NoJobOrSecretThere()
    {
        await using var k = await KubernetesHarness.StartAsync();

        await k.Core.StartAsync("job-1");

        Assert.Empty(k.Fake.FindAll("batch/v1", "Job", KubernetesHarness.Namespace));
        Assert.Empty(k.Fake.FindAll("v1", "Secret", KubernetesHarness.Namespace));
        Assert.Single(k.Fake.FindAll("v1", "Secret", Ns));
    }

    [Fact]
    public async Task Stop_RevokesInConfigMapThenDeletesJob_GarbageCollectorRemovesSecret()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var view = await k.Core.StartAsync("job-1");
        var uid = k.Fake.Find<V1Job>(Ns, "job-1")!.Metadata.Uid;

        var result = await k.Core.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var entry = Assert.Single(ReadList(k).Entries);
        Assert.Equal((view.Token!.Jti, "job-1", view.Token.ExpiresAt!.Value.ToUnixTimeSeconds()), (entry.Jti, entry.Sub!, entry.Exp!.Value));
        Assert.Null(k.Fake.Find<V1Job>(Ns, "job-1"));
        Assert.Null(k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token"));

        // Revocation strictly before deletion.
        var order = k.Fake.Requests.Select(r => (r.Verb, r.Resource)).ToList();
        Assert.True(order.IndexOf(("update", "configmaps")) < order.IndexOf(("delete", "jobs")));
        // Background (a plain DELETE of a Job orphans its pods), and only the Job it created (its uid).
        var delete = System.Text.Json.Nodes.JsonNode.Parse(k.Fake.Requests.Single(r => r.Verb == "delete").Body)!;
        Assert.Equal(("Background", uid), (delete["propagationPolicy"]!.GetValue<string>(), delete["preconditions"]!["uid"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Stop_FiftyConcurrently_EveryJtiInConfigMapExactlyOnce()
    {
        await using var k = await KubernetesHarness.StartAsync();
        var expected = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            expected.Add((await k.Core.StartAsync($"job-{i:D2}")).Token!.Jti);
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => k.Core.Manager.StopAsync($"job-{i:D2}", CancellationToken.None))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Message));
        var list = ReadList(k);
        Assert.Equal(50, list.Entries.Count);
        Assert.Equal(expected.Order(), list.Entries.Select(e => e.Jti).Order());
        Assert.Empty(k.Fake.FindAll("batch/v1", "Job", Ns));
        Assert.Empty(k.Fake.FindAll("v1", "Secret", Ns));

    }

    [Fact]
    public async Task Rbac_ChartRulesLoaded_WholeLifecycleNeedsNothingMore()
    {
        await using var k = await KubernetesHarness.StartAsync();
        await k.Core.StartAsync("job-1");
        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        k.Core.Time.Advance(TimeSpan.FromMinutes(31));
        await k.Core.Manager.RefreshAsync(CancellationToken.None);
        await k.Core.Manager.PruneAsync(CancellationToken.None);
        await k.Core.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.DoesNotContain(k.Fake.Requests, r => r.StatusCode == 403);
        await k.Core.Manager.RevokeFinishedAsync(CancellationToken.None);
        var allowed = new HashSet<(string?, string?)> { ("create", "jobs"), ("get", "jobs"), ("list", "jobs"), ("delete", "jobs"), ("create", "secrets"), ("update", "secrets"), ("get", "configmaps"), ("update", "configmaps"), ("patch", "configmaps") };
        Assert.All(k.Fake.Requests, r => Assert.Contains((r.Verb, r.Resource), allowed));
    }

    [Fact]
    public async Task Rbac_ChartRulesLoaded_ReadingATokenSecretIsForbidden()
    {
        await using var k = await KubernetesHarness.StartAsync();
        await k.Core.StartAsync("job-1");

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => k.Client.CoreV1.ReadNamespacedSecretAsync("job-1-requests-proxy-token", Ns));

        Assert.Equal(HttpStatusCode.Forbidden, e.Response.StatusCode);
    }

    [Fact]
    public async Task Rbac_ConfigMapOutsideTheRules_StopFailsAndJobStays()
    {
        await using var k = await KubernetesHarness.StartAsync(configMap: "some-other-configmap");
        await k.Core.StartAsync("job-1");

        var result = await k.Core.Manager.StopAsync("job-1", CancellationToken.None);

        Assert.Equal(JobError.Backend, result.Error);
        Assert.Contains(k.Fake.Requests, r => r is { Resource: "configmaps", StatusCode: 403 });
        Assert.NotNull(k.Fake.Find<V1Job>(Ns, "job-1"));
        Assert.Equal(JobState.Pending, k.Core.Manager.Get("job-1")!.State);
    }

    [Fact]
    public async Task Start_JobNameTakenInCluster_ConflictAndForeignJobUntouched()
    {
        await using var k = await KubernetesHarness.StartAsync();
        k.Fake.Seed(new V1Job { Metadata = new V1ObjectMeta { Name = "job-1", NamespaceProperty = Ns }, Spec = new V1JobSpec() });

        var result = await k.Core.Manager.StartAsync(CoreHarness.Spec("job-1"), CancellationToken.None);

        Assert.Equal(JobError.Conflict, result.Error);
        Assert.NotNull(k.Fake.Find<V1Job>(Ns, "job-1"));
        Assert.Null(k.Fake.Find<V1Secret>(Ns, "job-1-requests-proxy-token"));
    }

    [Fact]
    public async Task SyncStates_JobCompletes_SucceededAndNoLongerRefreshed()
    {
        await using var k = await KubernetesHarness.StartAsync();
        await k.Core.StartAsync("job-1");
        k.Fake.Update("batch/v1", "Job", Ns, "job-1", job => job["status"] = System.Text.Json.Nodes.JsonNode.Parse("""{"succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}"""));

        await k.Core.Manager.SyncStatesAsync(CancellationToken.None);
        k.Core.Time.Advance(TimeSpan.FromMinutes(45));

        Assert.Equal(JobState.Succeeded, k.Core.Manager.Get("job-1")!.State);
        Assert.Equal(0, await k.Core.Manager.RefreshAsync(CancellationToken.None));
    }

    [Fact]
    public void Validate_NoImage_Invalid()
    {
        var runtime = new KubernetesJobRuntime(null!, KubernetesHarness.Options(), Microsoft.Extensions.Logging.Abstractions.NullLogger<KubernetesJobRuntime>.Instance);
        Assert.NotNull(runtime.Validate(CoreHarness.Spec("job-1", image: null, "/bin/true")));
    }

    private static RevocationList ReadList(KubernetesHarness k) => k.RevokedList();

    private static VerifiedClaims Validate(KubernetesHarness k, string token)
    {
        var result = new TokenValidator(k.Core.KeySource, StaticRevocationSource.None, new TokenValidationOptions(), k.Core.Time).Validate(token);
        Assert.True(result.IsValid, result.Reason);
        return result.Claims!;
    }

    /// <summary>Runs an action on each response before the client sees it (the moment between two calls of the runtime).</summary>
    private sealed class AfterResponse(Action<HttpResponseMessage> action) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            action(response);
            return response;
        }
    }
}
