using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using RequestsProxy.Cli.Keys;
using RequestsProxy.Cli.Tests.Support;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Tests.Kubernetes;

/// <summary>
/// The store and the operations in-process, to put a concurrent writer exactly between a read and
/// its write (which the process tests can only provoke by racing).
/// </summary>
public sealed class KubernetesSecretKeyRingStoreTests : IAsyncLifetime
{
    private const string Ns = "ml";
    private const string Name = "rp-requests-proxy-keys";

    private FakeKubernetesApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeKubernetesApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Write_AfterAConcurrentChange_Throws409Conflict_AndChangesNothing()
    {
        Seed();
        using var client = _server.CreateClient(Ns);
        var store = new KubernetesSecretKeyRingStore(client, Ns, Name);
        var document = (await store.ReadAsync(CancellationToken.None))!;
        AddBehindTheStoresBack("v2");

        await Assert.ThrowsAsync<KeyRingConflictException>(() =>
            store.WriteAsync(document, create: false, CancellationToken.None));

        Assert.True(_server.Find<V1Secret>(Ns, Name)!.Data.ContainsKey("v2"));
        Assert.Contains(_server.Requests, r => r.Verb == "update" && r.StatusCode == 409);
    }

    [Fact]
    public async Task Add_AfterAConcurrentAdd_ReReadsAndAddsTheNextKid_NothingLost()
    {
        Seed();
        using var client = _server.CreateClient(Ns);
        var store = new InterferingKeyRingStore(new KubernetesSecretKeyRingStore(client, Ns, Name), () => AddBehindTheStoresBack("v2"), times: 1);

        var kid = await new KeyRingOperations(store, TimeProvider.System).AddAsync(CancellationToken.None);

        Assert.Equal("v3", kid);
        var secret = _server.Find<V1Secret>(Ns, Name)!;
        Assert.Equal(["active", "v1", "v2", "v3"], secret.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("concurrent", Encoding.UTF8.GetString(secret.Data["v2"])[..10]);
    }

    [Fact]
    public async Task Retire_AfterAConcurrentPromotion_ReChecks_AndRefusesTheNowActiveKey()
    {
        Seed(active: "v1", ("v2", KeyRingRules.GenerateKey()));
        using var client = _server.CreateClient(Ns);
        var promoteV2 = () => _server.Update("v1", "Secret", Ns, Name, s => s["data"]!["active"] = Convert.ToBase64String("v2"u8));
        var store = new InterferingKeyRingStore(new KubernetesSecretKeyRingStore(client, Ns, Name), () => promoteV2(), times: 1);

        // Forced, v2 passes the first check; someone promotes it meanwhile, and even --force never retires the active key.
        var error = await Assert.ThrowsAsync<CliException>(() =>
            new KeyRingOperations(store, TimeProvider.System).RetireAsync("v2", force: true, TokenTiming.Default, usage: null, CancellationToken.None));

        Assert.Equal(ExitCodes.Refused, error.ExitCode);
        Assert.Contains("active key", error.Message, StringComparison.Ordinal);
        Assert.True(_server.Find<V1Secret>(Ns, Name)!.Data.ContainsKey("v2"));
    }

    [Fact]
    public async Task EndlessConflicts_GiveUpAfterBoundedAttempts_WithARetryMessage()
    {
        Seed();
        using var client = _server.CreateClient(Ns);
        var n = 0;
        var store = new InterferingKeyRingStore(
            new KubernetesSecretKeyRingStore(client, Ns, Name),
            () => _server.Update("v1", "Secret", Ns, Name, s => s["metadata"]!["labels"] = new JsonObject { ["bump"] = $"n{++n}" }),
            times: int.MaxValue);

        var error = await Assert.ThrowsAsync<CliException>(() => new KeyRingOperations(store, TimeProvider.System).AddAsync(CancellationToken.None));

        Assert.Equal(ExitCodes.Refused, error.ExitCode);
        Assert.Contains("changed concurrently", error.Message, StringComparison.Ordinal);
        Assert.Contains("retry", error.Message, StringComparison.Ordinal);
        Assert.Equal(KeyRingOperations.MaxAttempts, _server.Requests.Count(r => r.Verb == "update" && r.StatusCode == 409));
        Assert.False(_server.Find<V1Secret>(Ns, Name)!.Data.ContainsKey("v2"));
    }

    [Fact]
    public async Task Write_KeepsEntriesThatAreNotKeys_AndExistingKeyBytes()
    {
        // A key with a trailing newline (as `kubectl create secret --from-file` leaves it) and an unrelated entry.
        var v1 = KeyRingRules.GenerateKey() + "\n";
        Seed(active: "v1", ("README", "managed by the platform team"));
        _server.Update("v1", "Secret", Ns, Name, s => s["data"]!["v1"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(v1)));
        using var client = _server.CreateClient(Ns);

        await new KeyRingOperations(new KubernetesSecretKeyRingStore(client, Ns, Name), TimeProvider.System).AddAsync(CancellationToken.None);

        var secret = _server.Find<V1Secret>(Ns, Name)!;
        Assert.Equal(v1, Encoding.UTF8.GetString(secret.Data["v1"]));
        Assert.Equal("managed by the platform team", Encoding.UTF8.GetString(secret.Data["README"]));
    }

    private void Seed(string active = "v1", params (string Name, string Value)[] extra)
    {
        var data = new Dictionary<string, string> { ["active"] = active, ["v1"] = KeyRingRules.GenerateKey() };
        foreach (var (name, value) in extra)
        {
            data[name] = value;
        }

        _server.SeedSecret(Ns, Name, data);
    }

    private void AddBehindTheStoresBack(string kid) =>
        _server.Update("v1", "Secret", Ns, Name, s => s["data"]![kid] = Convert.ToBase64String(Encoding.UTF8.GetBytes("concurrent" + KeyRingRules.GenerateKey())));
}
