using System.Text;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The keys Secret and the admin token survive an upgrade: helm's real <c>lookup</c>, run with
/// <c>--dry-run=server</c> against the fake Kubernetes API server. The revocation list and the job
/// ledger are neither looked up nor rendered any more (the jobs-manager owns them): whatever the
/// cluster holds stays out of every revision's manifest, so no rollback can re-apply it.
/// </summary>
public sealed class LookupPreservationTests : IAsyncLifetime, IDisposable
{
    private const string KeysName = "rel-requests-proxy-keys";
    private const string RevokedName = "rel-requests-proxy-revoked";
    private const string AdminName = "rel-requests-proxy-admin";
    private const string StateName = "rel-jobs-manager-state";
    private const string LedgerJson = """{"version":1,"jobs":[{"name":"job-7","createdAt":"2026-01-01T00:00:00+00:00","image":"trainer:1","command":[],"args":[],"scope":"results:write","tokensIssued":2,"currentJti":"j2","tokensRevoked":false,"tokens":[{"jti":"j2","kid":"v2","sub":"job-7","iat":1767225600,"exp":1775001600}]}]}""";
    private const string RevokedJson = """["legacy-jti",{"jti":"abc","exp":1767225600,"sub":"job-42"}]""";

    private static readonly Dictionary<string, string> OwnedByRelease = new()
    {
        ["app.kubernetes.io/managed-by"] = "Helm",
    };

    private static readonly Dictionary<string, string> ReleaseAnnotations = new()
    {
        ["meta.helm.sh/release-name"] = HelmChart.Release,
        ["meta.helm.sh/release-namespace"] = HelmChart.Namespace,
        ["helm.sh/resource-policy"] = "keep",
    };

    private readonly HelmChart _helm = new();
    private FakeKubernetesApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeKubernetesApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task DryRunServer_ExistingKeysRevocationsAndAdminToken_RenderedUnchanged()
    {
        var v1 = new string('a', 64);
        var v2 = new string('b', 64);
        _server.SeedSecret(HelmChart.Namespace, KeysName, new Dictionary<string, string> { ["active"] = "v2", ["v1"] = v1, ["v2"] = v2 }, OwnedByRelease, ReleaseAnnotations);
        _server.SeedConfigMap(HelmChart.Namespace, RevokedName, new Dictionary<string, string> { ["revoked.json"] = RevokedJson }, OwnedByRelease, ReleaseAnnotations);
        _server.SeedSecret(HelmChart.Namespace, AdminName, new Dictionary<string, string> { ["token"] = "existing-admin-token" }, OwnedByRelease, ReleaseAnnotations);
        _server.SeedConfigMap(HelmChart.Namespace, StateName, new Dictionary<string, string> { ["jobs.json"] = LedgerJson }, OwnedByRelease, ReleaseAnnotations);

        var chart = await RenderAgainstServerAsync();

        var keys = chart.Get("Secret", KeysName);
        Assert.Equal(["active", "v1", "v2"], keys["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("v2", Decode(keys.Str("data", "active")));
        Assert.Equal(v1, Decode(keys.Str("data", "v1")));
        Assert.Equal(v2, Decode(keys.Str("data", "v2")));
        Assert.Equal("keep", keys.Str("metadata", "annotations", "helm.sh/resource-policy"));
        Assert.Equal("existing-admin-token", Decode(chart.Get("Secret", AdminName).Str("data", "token")));
        Assert.Contains(_server.Requests, r => r is { Verb: "get", Resource: "secrets", Name: KeysName });
        Assert.Null(chart.Find("ConfigMap", RevokedName));
        Assert.Null(chart.Find("ConfigMap", StateName));
        Assert.DoesNotContain(_server.Requests, r => r is { Resource: "configmaps" });
        Assert.Equal(RevokedJson, _server.Find<k8s.Models.V1ConfigMap>(HelmChart.Namespace, RevokedName)!.Data["revoked.json"]);
        Assert.Equal(LedgerJson, _server.Find<k8s.Models.V1ConfigMap>(HelmChart.Namespace, StateName)!.Data["jobs.json"]);
    }

    [Fact]
    public async Task DryRunServer_NothingInCluster_GeneratesFreshKeyRing()
    {
        var chart = await RenderAgainstServerAsync();

        var keys = chart.Get("Secret", KeysName);
        Assert.Equal("v1", Decode(keys.Str("data", "active")));
        Assert.Matches("^[A-Za-z0-9]{64}$", Decode(keys.Str("data", "v1")));
        Assert.Null(chart.Find("ConfigMap", RevokedName));
        Assert.Null(chart.Find("ConfigMap", StateName));
        Assert.Contains(_server.Requests, r => r is { Verb: "get", Resource: "secrets", Name: KeysName, StatusCode: 404 });
    }

    [Fact]
    public async Task DryRunServer_ExistingSecretWithoutHelmOwnership_Refused()
    {
        // A real release's objects carry Helm's ownership metadata; helm refuses to take over others.
        _server.SeedSecret(HelmChart.Namespace, KeysName, new Dictionary<string, string> { ["active"] = "v1", ["v1"] = new string('a', 64) });

        var result = await RunAgainstServerAsync();

        Assert.False(result.Succeeded);
        Assert.Contains("invalid ownership metadata", result.StandardError, StringComparison.Ordinal);
    }

    private async Task<Testing.Tools.ToolResult> RunAgainstServerAsync()
    {
        var kubeconfig = _server.WriteKubeconfig(Path.Combine(_helm.Home, "kube"), HelmChart.Namespace);
        return await _helm.TemplateRawAsync(extra: ["--dry-run=server", "--disable-openapi-validation", "--kubeconfig", kubeconfig]);
    }

    private async Task<RenderedChart> RenderAgainstServerAsync()
    {
        var result = await RunAgainstServerAsync();
        var unknown = string.Join("\n", _server.UnknownRequests.Select(r => $"{r.Method} {r.Path}{r.QueryString} -> {r.StatusCode}"));
        Assert.True(result.Succeeded, $"helm failed ({result.ExitCode}): {result.StandardError}\nunknown requests:\n{unknown}");
        Assert.Empty(_server.UnknownRequests);
        return new RenderedChart(result.StandardOutput, YamlJson.ParseDocuments(result.StandardOutput));
    }

    private static string Decode(string? base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64!));
}
