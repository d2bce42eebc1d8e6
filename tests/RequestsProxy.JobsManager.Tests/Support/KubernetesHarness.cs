using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>
/// The core with the Kubernetes runtime and ConfigMap store, talking over real HTTP to the FAKE
/// Kubernetes API server (not a cluster: no controllers, no pods), with the RBAC rules of
/// docs/architecture.md loaded.
/// </summary>
internal sealed class KubernetesHarness : IAsyncDisposable
{
    /// <summary>The release namespace: keys, revocation list, job ledger.</summary>
    public const string Namespace = "training";

    /// <summary>The job namespace: training Jobs and their token Secrets.</summary>
    public const string JobsNamespace = "training-jobs";
    public const string Release = "rel";
    public const string KeysSecret = Release + "-requests-proxy-keys";
    public const string RevokedConfigMap = Release + "-requests-proxy-revoked";
    public const string StateConfigMap = Release + "-jobs-manager-state";
    public const string LegacyTokensConfigMap = Release + "-requests-proxy-legacy-tokens";
    public const string EmptyLedger = "{\"version\":1,\"jobs\":[]}";

    private readonly List<IKubernetes> _restartClients = [];

    private KubernetesHarness(FakeKubernetesApiServer fake, IKubernetes client, CoreHarness core, TestMeterFactory meters)
    {
        Fake = fake;
        Client = client;
        Core = core;
        StoreMeters = meters;
    }

    public FakeKubernetesApiServer Fake { get; }

    public IKubernetes Client { get; }

    public CoreHarness Core { get; }

    public TestMeterFactory StoreMeters { get; }

    /// <summary>Exactly the table of docs/architecture.md: nothing broader (name-scoped in the release namespace, unscoped only in the job namespace).</summary>
    public static IReadOnlyList<FakeRbacRule> ChartRules(string ns = Namespace, int shards = 1, IReadOnlyList<string>? jobNamespaces = null) =>
    [
        new(["get"], [""], ["secrets"], [KeysSecret], ns),
        new(["get", "update", "patch"], [""], ["configmaps"], [.. Enumerable.Range(0, shards).Select(i => KubernetesStores.RevocationShardName(RevokedConfigMap, i))], ns),
        new(["get", "update"], [""], ["configmaps"], [StateConfigMap], ns),
        new(["get", "update"], [""], ["configmaps"], [LegacyTokensConfigMap], ns),
        new(["create"], [""], ["configmaps"], null, ns),
        .. (jobNamespaces ?? [JobsNamespace]).SelectMany(jobs => new FakeRbacRule[]
        {
            new(["create", "update"], [""], ["secrets"], null, jobs),
            new(["create", "get", "list", "watch", "delete"], ["batch"], ["jobs"], null, jobs),
            new(["create"], [""], ["events"], null, jobs),
        }),
    ];

    /// <summary>The whole app (ApiHost) on the Kubernetes runtime with the harness's names.</summary>
    public static void AppOptions(JobsManagerOptions o)
    {
        o.Runtime = JobRuntimeKind.Kubernetes;
        o.Namespace = Namespace;
        o.JobNamespaces = [JobsNamespace];
        o.ReleaseName = Release;
        o.RevokedConfigMapName = RevokedConfigMap;
        o.StateConfigMapName = StateConfigMap;
        o.LegacyTokensConfigMapName = LegacyTokensConfigMap;
    }

    public static JobsManagerOptions Options(string? configMap = null, int shards = 1) => new()
    {
        RevocationShards = shards,
        Runtime = JobRuntimeKind.Kubernetes,
        Namespace = Namespace,
        JobNamespaces = [JobsNamespace],
        ReleaseName = Release,
        RevokedConfigMapName = configMap ?? RevokedConfigMap,
        StateConfigMapName = StateConfigMap,
        LegacyTokensConfigMapName = LegacyTokensConfigMap,
        ProxyUrl = new Uri($"http://{Release}-requests-proxy.{Namespace}.svc:8888"),
        TokenLifetime = TimeSpan.FromHours(1),
        RefreshCheckInterval = TimeSpan.FromMinutes(1),
    };

    private static JobsManagerOptions WithJobNamespaces(JobsManagerOptions options, IReadOnlyList<string>? jobNamespaces)
    {
        options.JobNamespaces = jobNamespaces ?? options.JobNamespaces;
        return options;
    }

    /// <param name="runtimeHandler">Sits between the runtime's client and the API server (to act at a precise moment of a start); null: the shared client.</param>
    /// <param name="ledger">The job ledger the jobs-manager restores from; <paramref name="seed"/> adds objects before the restore, <paramref name="extraRules"/> rights beyond the chart's.</param>
    public static async Task<KubernetesHarness> StartAsync(bool rbac = true, string? configMap = null, string revoked = "[]", int shards = 1, IReadOnlyList<string>? jobNamespaces = null,
        DelegatingHandler? runtimeHandler = null, string ledger = EmptyLedger, Action<FakeKubernetesApiServer>? seed = null, IReadOnlyList<FakeRbacRule>? extraRules = null)
    {
        var fake = await FakeKubernetesApiServer.StartAsync();
        fake.SeedConfigMap(Namespace, RevokedConfigMap, new Dictionary<string, string> { ["revoked.json"] = revoked });
        for (var i = 1; i < shards; i++)
        {
            fake.SeedConfigMap(Namespace, KubernetesStores.RevocationShardName(RevokedConfigMap, i), new Dictionary<string, string> { ["revoked.json"] = "[]" });
        }

        fake.SeedConfigMap(Namespace, StateConfigMap, new Dictionary<string, string> { ["jobs.json"] = ledger });
        seed?.Invoke(fake);
        fake.SeedConfigMap(Namespace, LegacyTokensConfigMap, new Dictionary<string, string> { ["legacy-tokens.json"] = "[]" });
        if (rbac)
        {
            fake.RbacRules = [.. ChartRules(shards: shards, jobNamespaces: jobNamespaces), .. extraRules ?? []];
        }

        var client = fake.CreateClient(Namespace);
        var runtimeClient = runtimeHandler is null ? client : new k8s.Kubernetes(fake.CreateClientConfiguration(Namespace), runtimeHandler);
        var meters = new TestMeterFactory();
        var storeMetrics = new JobsManagerMetrics(meters);
        var core = new CoreHarness(
            options: WithJobNamespaces(Options(configMap, shards), jobNamespaces),
            runtimeFactory: o => new KubernetesJobRuntime(runtimeClient, o, NullLogger<KubernetesJobRuntime>.Instance),
            storeFactory: o => RevocationStore(client, o, storeMetrics),
            ledgerStoreFactory: o => LedgerStore(client, o, storeMetrics),
            restore: false);
        Assert.True(await core.Manager.RestoreAsync(CancellationToken.None), core.Manager.RestoreProblem);
        var harness = new KubernetesHarness(fake, client, core, meters);
        if (runtimeClient != client)
        {
            harness._restartClients.Add(runtimeClient);
        }

        return harness;
    }

    /// <summary>The revocation list as the fake API server holds it now (shard 0).</summary>
    public RevocationList RevokedList()
    {
        var configMap = Fake.Find<k8s.Models.V1ConfigMap>(Namespace, RevokedConfigMap)!;
        Assert.True(RevocationList.TryParse(System.Text.Encoding.UTF8.GetBytes(configMap.Data["revoked.json"]), out var list, out var error), error);
        return list;
    }

    public static ConfigMapUpdater Updater(IKubernetes client, JobsManagerOptions options) =>
        new(client, options, TimeProvider.System, NullLogger<ConfigMapUpdater>.Instance);

    public static ShardedRevocationStore RevocationStore(IKubernetes client, JobsManagerOptions options, JobsManagerMetrics metrics) =>
        KubernetesStores.Revocation(Updater(client, options), options, metrics);

    public static ConfigMapDocumentStore<JobLedgerDocument> LedgerStore(IKubernetes client, JobsManagerOptions options, JobsManagerMetrics metrics) =>
        KubernetesStores.JobLedger(Updater(client, options), options, metrics);

    /// <summary>
    /// A restarted jobs-manager on the same fake API server: new client, new runtime, new stores,
    /// nothing carried over in memory. Not restored yet.
    /// </summary>
    public JobManager Restart()
    {
        var client = Fake.CreateClient(Namespace);
        _restartClients.Add(client);
        var metrics = new JobsManagerMetrics(StoreMeters);
        return Core.NewManager(new KubernetesJobRuntime(client, Core.Options, NullLogger<KubernetesJobRuntime>.Instance),
            RevocationStore(client, Core.Options, metrics), LedgerStore(client, Core.Options, metrics));
    }

    public async ValueTask DisposeAsync()
    {
        Core.Dispose();
        StoreMeters.Dispose();
        Client.Dispose();
        foreach (var client in _restartClients)
        {
            client.Dispose();
        }

        await Fake.DisposeAsync();
    }
}
