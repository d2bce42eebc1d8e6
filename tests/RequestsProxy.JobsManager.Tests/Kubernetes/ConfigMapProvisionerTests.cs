using System.Net;
using System.Net.Http.Json;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Legacy;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>
/// The ConfigMaps the chart no longer renders (revocation shards, ledger, legacy list) are created
/// by the jobs-manager at start-up, against the FAKE API server where a real one cannot show the
/// corner (a create racing another writer's, a 403); the real cluster tier installs the chart.
/// </summary>
public sealed class ConfigMapProvisionerTests
{
    private static readonly string[] Shards = ["rel-requests-proxy-revoked", "rel-requests-proxy-revoked-1", "rel-requests-proxy-revoked-2"];

    [Fact]
    public async Task EnsureAsync_NothingExists_CreatesEachEmptyLabelledNeverHelms()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 3);
        var provisioner = Provisioner(fake.CreateClient(KubernetesHarness.Namespace), shards: 3);

        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);

        Assert.Null(provisioner.Problem);
        for (var i = 0; i < Shards.Length; i++)
        {
            var shard = fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, Shards[i])!;
            Assert.True(RevocationList.TryParse(System.Text.Encoding.UTF8.GetBytes(shard.Data["revoked.json"]), out var list, out _));
            Assert.Equal(0, list.Count);
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), shard.Metadata.Labels["requests-proxy.io/revocation-shard"]);
            Assert.Equal("revocations", shard.Metadata.Labels["app.kubernetes.io/component"]);
        }

        var ledger = fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap)!;
        Assert.True(JobLedgerCodec.Instance.TryParse(System.Text.Encoding.UTF8.GetBytes(ledger.Data["jobs.json"]), out var document, out _));
        Assert.Empty(document.Jobs);
        var legacy = fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.LegacyTokensConfigMap)!;
        Assert.Equal("[]", legacy.Data["legacy-tokens.json"].Trim());
        // Born with its issuing marker (issue 15 C3): the options are stateless, so the proxies' first copy says closed.
        Assert.Equal("closed", legacy.Data["issuing"].Trim());
        foreach (var created in new[] { ledger, legacy })
        {
            Assert.Equal("jobs-manager", created.Metadata.Labels["app.kubernetes.io/managed-by"]);
            Assert.Equal(KubernetesHarness.Release, created.Metadata.Labels["requests-proxy.io/release"]);
            // No Helm ownership: no revision's manifest holds them, so no rollback can rewrite them (keep, should one ever name
            // them); and no app.kubernetes.io/instance, which Argo CD's label tracking would prune as an extraneous object of the app.
            Assert.DoesNotContain("app.kubernetes.io/instance", created.Metadata.Labels.Keys);
            Assert.DoesNotContain(created.Metadata.Annotations.Keys, k => k.StartsWith("meta.helm.sh/", StringComparison.Ordinal));
            Assert.Equal("keep", created.Metadata.Annotations["helm.sh/resource-policy"]);
            Assert.Equal("Prune=false", created.Metadata.Annotations["argocd.argoproj.io/sync-options"]);
        }

        Assert.DoesNotContain(fake.Requests, r => r.StatusCode == 403);
    }

    [Fact]
    public async Task EnsureAsync_AllExist_WritesNothingEvenWithoutTheCreateRight()
    {
        // A release upgraded from the chart that rendered them (or an older Role without create): read, never touched.
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        foreach (var shard in Shards)
        {
            fake.SeedConfigMap(KubernetesHarness.Namespace, shard, new Dictionary<string, string> { ["revoked.json"] = "[\"kept\"]" });
        }

        fake.SeedConfigMap(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap, new Dictionary<string, string> { ["jobs.json"] = KubernetesHarness.EmptyLedger });
        fake.SeedConfigMap(KubernetesHarness.Namespace, KubernetesHarness.LegacyTokensConfigMap, new Dictionary<string, string> { ["legacy-tokens.json"] = "[]" });
        fake.RbacRules = [.. KubernetesHarness.ChartRules(shards: 3).Where(r => !r.Verbs.SequenceEqual(["create"]) || r.Resources[0] != "configmaps")];
        fake.ClearRequests();
        var provisioner = Provisioner(fake.CreateClient(KubernetesHarness.Namespace), shards: 3);

        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);

        Assert.All(fake.Requests, r => Assert.Equal("get", r.Verb));
        Assert.All(Shards, s => Assert.Equal("[\"kept\"]", fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, s)!.Data["revoked.json"]));
    }

    [Fact]
    public async Task EnsureAsync_AnotherWriterCreatesItFirst_409KeepsTheirs()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 1);

        // Between our 404 and our create, someone else (another replica during a roll) creates the ledger with content.
        var race = new CreateRace(() => fake.SeedConfigMap(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap,
            new Dictionary<string, string> { ["jobs.json"] = "{\"version\":1,\"jobs\":[{\"name\":\"theirs\"}]}" }), KubernetesHarness.StateConfigMap);
        var client = new k8s.Kubernetes(fake.CreateClientConfiguration(KubernetesHarness.Namespace), race);
        var provisioner = Provisioner(client, shards: 1);

        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);

        Assert.Contains(fake.Requests, r => r is { Verb: "create", Resource: "configmaps", Name: null or KubernetesHarness.StateConfigMap, StatusCode: 409 });
        Assert.Contains("theirs", fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap)!.Data["jobs.json"], StringComparison.Ordinal);
        Assert.Null(provisioner.Problem);
    }

    [Fact]
    public async Task EnsureAsync_CreateForbidden_ProblemNamesTheObjectAndTheRight_ThenARetrySucceeds()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        var withoutCreate = KubernetesHarness.ChartRules(shards: 1).Where(r => !r.Verbs.SequenceEqual(["create"]) || r.Resources[0] != "configmaps").ToList();
        fake.RbacRules = withoutCreate;
        var provisioner = Provisioner(fake.CreateClient(KubernetesHarness.Namespace), shards: 1);

        Assert.False(await provisioner.EnsureAsync(CancellationToken.None));

        Assert.Contains(KubernetesHarness.RevokedConfigMap, provisioner.Problem, StringComparison.Ordinal);
        Assert.Contains(KubernetesHarness.StateConfigMap, provisioner.Problem, StringComparison.Ordinal);
        Assert.Contains("403", provisioner.Problem, StringComparison.Ordinal);
        Assert.Contains("create on configmaps", provisioner.Problem, StringComparison.Ordinal);
        Assert.Null(fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap));

        fake.RbacRules = KubernetesHarness.ChartRules(shards: 1);
        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);
        Assert.Null(provisioner.Problem);
        Assert.NotNull(fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.StateConfigMap));
    }

    [Fact]
    public async Task EnsureAsync_ReadForbidden_LoggedAsAReadFailureNotACreateOne()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 1).Where(r => r.ResourceNames?.Contains(KubernetesHarness.StateConfigMap) != true).ToList();
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        var provisioner = new ConfigMapProvisioner(fake.CreateClient(KubernetesHarness.Namespace), KubernetesHarness.Options(shards: 1),
            new Microsoft.Extensions.Logging.Testing.FakeLogger<ConfigMapProvisioner>(logs));

        Assert.False(await provisioner.EnsureAsync(CancellationToken.None));

        Assert.Contains($"ConfigMap '{KubernetesHarness.StateConfigMap}' could not be read: 403", provisioner.Problem, StringComparison.Ordinal);
        var read = Assert.Single(logs.GetSnapshot(), l => l.Id.Id == 544);
        Assert.DoesNotContain(logs.GetSnapshot(), l => l.Id.Id == 542);
        Assert.Equal($"ConfigMap {KubernetesHarness.StateConfigMap} in namespace {KubernetesHarness.Namespace} could not be read (status 403; 0: no answer), so whether it exists is unknown; the jobs-manager stays unready, retried on the next pass", read.Message);
        Assert.DoesNotContain(fake.Requests, r => r is { Verb: "create", Name: KubernetesHarness.StateConfigMap });
    }

    [Theory]
    [InlineData(1, "every revocation it held")]
    [InlineData(3, "every job it held")]
    [InlineData(4, "every live legacy token it listed")]
    public async Task EnsureAsync_OneDeletedWhileTheOthersHoldContent_NotRecreatedEmptyAndNamed(int deleted, string loss)
    {
        // A later start after someone deleted one store (a typo, a cleanup script, a GitOps prune): an empty copy would
        // forget what it held — for a shard, a stopped job's copied token accepted again by every proxy.
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 3);
        var provisioner = Provisioner(fake.CreateClient(KubernetesHarness.Namespace), shards: 3);
        SeedWithContent(fake, provisioner, except: deleted);
        var name = provisioner.Objects[deleted].Name;

        Assert.False(await provisioner.EnsureAsync(CancellationToken.None));

        Assert.Null(fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, name));
        Assert.DoesNotContain(fake.Requests, r => r.Verb == "create");
        Assert.Contains($"ConfigMap '{name}' is missing while the other stores exist", provisioner.Problem, StringComparison.Ordinal);
        Assert.Contains(loss, provisioner.Problem, StringComparison.Ordinal);
        Assert.Contains("JOBS_MANAGER_RECREATE_MISSING_STORES=true", provisioner.Problem, StringComparison.Ordinal);

        // Restored from a backup: fine on the next pass.
        fake.SeedConfigMap(KubernetesHarness.Namespace, name, new Dictionary<string, string> { [provisioner.Objects[deleted].Key] = "restored" });
        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);
    }

    [Fact]
    public async Task EnsureAsync_OneDeletedAndTheOperatorAcceptsTheLoss_RecreatedEmpty()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 3);
        var options = KubernetesHarness.Options(shards: 3);
        options.RecreateMissingStores = true;
        var provisioner = new ConfigMapProvisioner(fake.CreateClient(KubernetesHarness.Namespace), options, NullLogger<ConfigMapProvisioner>.Instance);
        SeedWithContent(fake, provisioner, except: 1);

        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);

        Assert.Equal("[]", fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, Shards[1])!.Data["revoked.json"].Trim());
    }

    [Fact]
    public async Task EnsureAsync_MoreShardsThanTheExistingOnesWereMadeFor_OnlyTheNewOnesCreatedWithTheCount()
    {
        // Shards rendered by the older chart carry no count: one past the highest existing index is what they were made for.
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 5);
        var provisioner = Provisioner(fake.CreateClient(KubernetesHarness.Namespace), shards: 5);
        SeedWithContent(fake, provisioner, except: -1, skipShardsFrom: 3);

        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);

        foreach (var grown in provisioner.Objects.Where(o => o.Shard >= 3))
        {
            var created = fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, grown.Name)!;
            Assert.Equal("5", created.Metadata.Annotations[ConfigMapProvisioner.ShardCountAnnotation]);
        }

        Assert.All(provisioner.Objects.Where(o => o.Shard < 3), o =>
            Assert.Equal("[\"kept\"]", fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, o.Name)!.Data["revoked.json"]));

        // Shard 3 deleted afterwards is a deletion, not growth: its count says 5 shards were meant.
        var shard3 = provisioner.Objects.Single(o => o.Shard == 3).Name;
        fake.RbacRules = null;
        await fake.CreateClient(KubernetesHarness.Namespace).CoreV1.DeleteNamespacedConfigMapAsync(shard3, KubernetesHarness.Namespace);
        Assert.False(await provisioner.EnsureAsync(CancellationToken.None));
        Assert.Contains(shard3, provisioner.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureAsync_AnInterruptedFirstStartLeftSomeStillEmpty_CreatesTheRest()
    {
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules(shards: 3);
        var provisioner = Provisioner(fake.CreateClient(KubernetesHarness.Namespace), shards: 3);
        foreach (var o in provisioner.Objects.Take(2))
        {
            fake.SeedConfigMap(KubernetesHarness.Namespace, o.Name, new Dictionary<string, string> { [o.Key] = System.Text.Encoding.UTF8.GetString(o.Content) },
                labels: new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = ConfigMapProvisioner.ManagedBy });
        }

        Assert.True(await provisioner.EnsureAsync(CancellationToken.None), provisioner.Problem);

        Assert.All(provisioner.Objects, o => Assert.NotNull(fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, o.Name)));
    }

    /// <summary>Every store with content (as a running release has them), but <paramref name="except"/> and shards from <paramref name="skipShardsFrom"/>.</summary>
    private static void SeedWithContent(FakeKubernetesApiServer fake, ConfigMapProvisioner provisioner, int except, int skipShardsFrom = int.MaxValue)
    {
        for (var i = 0; i < provisioner.Objects.Count; i++)
        {
            var o = provisioner.Objects[i];
            if (i == except || o.Shard >= skipShardsFrom)
            {
                continue;
            }

            var content = o.Shard is not null ? "[\"kept\"]" : o.Key == "jobs.json" ? "{\"version\":1,\"jobs\":[{\"name\":\"running\"}]}" : "[]";
            fake.SeedConfigMap(KubernetesHarness.Namespace, o.Name, new Dictionary<string, string> { [o.Key] = content });
        }
    }

    [Fact]
    public async Task App_FreshNamespaceWithoutTheConfigMaps_ReadyAndStopRevokes()
    {
        // A fresh install of the chart: nothing but the keys Secret exists when the jobs-manager starts.
        await using var fake = await FakeKubernetesApiServer.StartAsync();
        fake.RbacRules = KubernetesHarness.ChartRules();
        await using var host = await ApiHost.StartAsync(
            configure: KubernetesHarness.AppOptions,
            configureBuilder: b => b.Services.AddSingleton<IKubernetes>(fake.CreateClient(KubernetesHarness.Namespace)));

        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", image = "registry.example/trainer:1" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.NotEqual("[]", fake.Find<V1ConfigMap>(KubernetesHarness.Namespace, KubernetesHarness.RevokedConfigMap)!.Data["revoked.json"].Trim());
        Assert.DoesNotContain(fake.Requests, r => r.StatusCode == 403);
    }

    private static ConfigMapProvisioner Provisioner(IKubernetes client, int shards)
    {
        var options = KubernetesHarness.Options(shards: shards);
        return new ConfigMapProvisioner(client, options, NullLogger<ConfigMapProvisioner>.Instance);
    }

    /// <summary>Runs <paramref name="interloper"/> once, just before the first create of <paramref name="name"/> reaches the server.</summary>
    private sealed class CreateRace(Action interloper, string name) : DelegatingHandler
    {
        private int _done;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/configmaps", StringComparison.Ordinal) && request.Content is { } content
                && (await content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Contains($"\"{name}\"", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _done, 1) == 0)
            {
                interloper();
            }

            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }
}
