using System.Globalization;
using System.Text;
using System.Text.Json;
using k8s.Models;
using RequestsProxy.Cli.Keys;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.FakeKubernetes;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Tests.Kubernetes;

/// <summary><c>rpctl keys … --kubernetes</c>, the real process against the fake Kubernetes API server.</summary>
public sealed class KubernetesKeysCommandTests : IAsyncLifetime
{
    private const string Ns = "ml";
    private const string Release = "rp";
    private const string SecretName = "rp-requests-proxy-keys";

    private readonly TempFolder _temp = new("rp-cli-k8s");
    private FakeKubernetesApiServer _server = null!;
    private string _kubeconfig = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubernetesApiServer.StartAsync();
        _kubeconfig = _server.WriteKubeconfig(_temp.Combine("kube"), defaultNamespace: Ns);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task Init_CreatesTheSecret_V1Active_AndRefusesASecondInit()
    {
        var init = await Keys("init");

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Equal("v1", init.Line);
        var secret = Secret();
        Assert.Equal("v1", Text(secret, "active"));
        var key = Text(secret, "v1");
        Assert.Equal(64, key.Length);
        Assert.All(key, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
        Assert.Equal("rpctl", secret.Metadata.Labels["app.kubernetes.io/managed-by"]);
        var history = KeyHistory.Parse(secret.Metadata.Annotations[KubernetesSecretKeyRingStore.HistoryAnnotation]);
        Assert.NotNull(history.For("v1")?.Promoted);

        // The ring the proxy would load from this Secret's volume is valid.
        Assert.Equal("v1", KeyRingLoader.Build(Text(secret, "active"), new Dictionary<string, byte[]> { ["v1"] = secret.Data["v1"] }).ActiveKid);

        var again = await Keys("init");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(key, Text(Secret(), "v1"));
    }

    [Fact]
    public async Task Init_FillsAnEmptySecretCreatedForExistingSecret_KeepingItsLabels()
    {
        _server.SeedSecret(Ns, "gitops-keys", new Dictionary<string, string>(), labels: new Dictionary<string, string> { ["team"] = "ml" });

        var init = await Rpctl.RunAsync("keys", "init", "--kubernetes", "--kubeconfig", _kubeconfig, "--secret", "gitops-keys");

        Assert.True(init.ExitCode == 0, init.ToString());
        var secret = _server.Find<V1Secret>(Ns, "gitops-keys")!;
        Assert.Equal("v1", Text(secret, "active"));
        Assert.Equal("ml", secret.Metadata.Labels["team"]);
    }

    [Fact]
    public async Task Rotation_OnAHelmOwnedSecret_RoundTrips_AndKeepsHelmsLabelsAnnotationsAndKeyBytes()
    {
        var v1 = KeyRingRules.GenerateKey();
        var labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/managed-by"] = "Helm",
            ["app.kubernetes.io/instance"] = Release,
            ["app.kubernetes.io/component"] = "keys",
            ["helm.sh/chart"] = "requests-proxy-0.1.0",
        };
        var annotations = new Dictionary<string, string>
        {
            ["meta.helm.sh/release-name"] = Release,
            ["meta.helm.sh/release-namespace"] = Ns,
            ["helm.sh/resource-policy"] = "keep",
        };
        _server.SeedSecret(Ns, SecretName, new Dictionary<string, string> { ["active"] = "v1", ["v1"] = v1 }, labels, annotations);

        var add = await Keys("add");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal("v2", add.Line);
        var afterAdd = Secret();
        Assert.Equal("v1", Text(afterAdd, "active"));
        var v2 = Text(afterAdd, "v2");

        Assert.Equal("active: v2", (await Keys("promote", "v2")).Line);
        Assert.Equal("v2", Text(Secret(), "active"));

        // Never the active key, not even forced.
        var retireActive = await Keys("retire", "v2", "--force");
        Assert.Equal(1, retireActive.ExitCode);
        Assert.Contains("active key", retireActive.Stderr, StringComparison.Ordinal);

        // v1 signed tokens until a moment ago: they may live one lifetime more.
        var unsafeRetire = await Keys("retire", "v1");
        Assert.Equal(1, unsafeRetire.ExitCode);
        Assert.Contains("may be valid until", unsafeRetire.Stderr, StringComparison.Ordinal);
        Assert.Contains("--force", unsafeRetire.Stderr, StringComparison.Ordinal);
        Assert.Equal(v1, Text(Secret(), "v1"));

        var later = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 120).ToString(CultureInfo.InvariantCulture);
        var dryRun = await Keys("retire", "v1", "--ttl", "60", "--now", later);
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains("nothing changed: would retire v1", dryRun.Line, StringComparison.Ordinal);
        Assert.Equal(v1, Text(Secret(), "v1"));

        await Task.Delay(TimeSpan.FromSeconds(2.2));
        var retire = await Keys("retire", "v1", "--ttl", "1", "--leeway", "0");
        Assert.True(retire.ExitCode == 0, retire.ToString());
        Assert.Equal("retired: v1", retire.Line);

        var final = Secret();
        Assert.Equal(["active", "v2"], final.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(v2, Text(final, "v2"));
        foreach (var (name, value) in labels)
        {
            Assert.Equal(value, final.Metadata.Labels[name]);
        }

        foreach (var (name, value) in annotations)
        {
            Assert.Equal(value, final.Metadata.Annotations[name]);
        }

        var history = KeyHistory.Parse(final.Metadata.Annotations[KubernetesSecretKeyRingStore.HistoryAnnotation]);
        Assert.NotNull(history.For("v1")?.Retired); // kept, so "v1" is never handed to a new key
        Assert.NotNull(history.For("v2")?.Promoted);

        // Every write was a replace carrying the resourceVersion it was based on.
        var writes = _server.Requests.Where(r => r.Verb == "update").ToList();
        Assert.Equal(3, writes.Count);
        Assert.All(writes, w => Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(w.Body).RootElement.GetProperty("metadata").GetProperty("resourceVersion").GetString())));
    }

    [Fact]
    public async Task Retire_SecretWithoutHistory_NeedsForce()
    {
        _server.SeedSecret(Ns, SecretName, new Dictionary<string, string> { ["active"] = "v2", ["v1"] = KeyRingRules.GenerateKey(), ["v2"] = KeyRingRules.GenerateKey() });

        var refused = await Keys("retire", "v1");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("no record of when it stopped signing", refused.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await Keys("retire", "v1", "--force")).ExitCode);
        Assert.False(Secret().Data.ContainsKey("v1"));
    }

    [Fact]
    public async Task List_AndNamespaceFromTheKubeconfigContext()
    {
        Assert.Equal(0, (await Keys("init")).ExitCode);
        Assert.Equal(0, (await Keys("add")).ExitCode);

        // No --namespace: the kubeconfig context's namespace (ml) is used.
        var list = await Rpctl.RunAsync("keys", "list", "--kubernetes", "--kubeconfig", _kubeconfig, "--release", Release);

        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("v1     yes", lines[1], StringComparison.Ordinal);
        Assert.Contains("safe: it never signed", lines[2], StringComparison.Ordinal);
        Assert.All(_server.Requests.Where(r => r.Resource == "secrets"), r => Assert.Equal(Ns, r.Namespace));
    }

    [Fact]
    public async Task MissingSecret_IsAUsageError_NamingTheSecret()
    {
        var add = await Keys("add");

        Assert.Equal(2, add.ExitCode);
        Assert.Contains($"Secret '{Ns}/{SecretName}'", add.Stderr, StringComparison.Ordinal);
        Assert.Contains("rpctl keys init", add.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidRingInTheSecret_IsRefused_Exit2_AndNotWritten()
    {
        _server.SeedSecret(Ns, SecretName, new Dictionary<string, string> { ["active"] = "v3", ["v1"] = KeyRingRules.GenerateKey() });

        var add = await Keys("add");

        Assert.Equal(2, add.ExitCode);
        Assert.Contains("invalid", add.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Requests, r => r.Verb == "update");
    }

    [Fact]
    public async Task Forbidden_GivesAClearMessage_Exit2()
    {
        _server.SeedSecret(Ns, SecretName, new Dictionary<string, string> { ["active"] = "v1", ["v1"] = KeyRingRules.GenerateKey() });

        // Read-only on exactly this Secret, as the jobs-manager's Role grants.
        _server.RbacRules = [new FakeRbacRule(["get"], [""], ["secrets"], [SecretName], Ns)];

        var list = await Keys("list");
        Assert.True(list.ExitCode == 0, list.ToString());

        var add = await Keys("add");
        Assert.Equal(2, add.ExitCode);
        Assert.Contains($"the Kubernetes API refused to update Secret '{Ns}/{SecretName}'", add.Stderr, StringComparison.Ordinal);
        Assert.Contains("forbidden", add.Stderr, StringComparison.Ordinal);
        Assert.Contains("needs get and update", add.Stderr, StringComparison.Ordinal);

        _server.RbacRules = [];
        var get = await Keys("list");
        Assert.Equal(2, get.ExitCode);
        Assert.Contains("refused to get", get.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentAdds_FromSeveralProcesses_NoneIsLost()
    {
        Assert.Equal(0, (await Keys("init")).ExitCode);

        // Racing read → replace cycles: a loser gets 409, re-reads and adds the next kid.
        var adds = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Keys("add")));

        Assert.All(adds, a => Assert.True(a.ExitCode == 0, a.ToString()));
        Assert.Equal(["v2", "v3", "v4", "v5"], adds.Select(a => a.Line).Order(StringComparer.Ordinal));
        var kids = Secret().Data.Keys.Where(k => KeyRingRules.IsKid(k)).Order(StringComparer.Ordinal);
        Assert.Equal(["v1", "v2", "v3", "v4", "v5"], kids);
        var history = KeyHistory.Parse(Secret().Metadata.Annotations[KubernetesSecretKeyRingStore.HistoryAnnotation]);
        Assert.All(kids, k => Assert.NotNull(history.For(k)?.Added));
    }

    [Fact]
    public async Task UnreachableApiServer_Exit2()
    {
        var kubeconfig = _server.WriteKubeconfig(_temp.Combine("gone"), Ns);
        await _server.DisposeAsync();

        var list = await Rpctl.RunAsync("keys", "list", "--kubernetes", "--kubeconfig", kubeconfig, "--release", Release);

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("cannot reach the Kubernetes API", list.Stderr, StringComparison.Ordinal);
        _server = await FakeKubernetesApiServer.StartAsync();
    }

    private Task<Rpctl.Result> Keys(string verb, params string[] rest) =>
        Rpctl.RunAsync(["keys", verb, "--kubernetes", "--kubeconfig", _kubeconfig, "--namespace", Ns, "--release", Release, .. rest]);

    private V1Secret Secret() => _server.Find<V1Secret>(Ns, SecretName) ?? throw new InvalidOperationException("no keys Secret");

    private static string Text(V1Secret secret, string entry) => Encoding.UTF8.GetString(secret.Data[entry]);
}
