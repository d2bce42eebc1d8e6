using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The rendered Role, loaded into the fake Kubernetes API server's RBAC emulation, allows every
/// call of the jobs-manager contract and refuses the neighbours.
/// </summary>
public sealed class RbacEnforcementTests : IAsyncLifetime, IDisposable
{
    private const string Ns = HelmChart.Namespace;
    private const string Jobs = HelmChart.Namespace + "-jobs";

    private readonly HelmChart _helm = new();
    private FakeKubernetesApiServer _server = null!;
    private IKubernetes _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubernetesApiServer.StartAsync();
        _client = _server.CreateClient(Ns);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RenderedRole_JobsManagerCalls_AllowedAndNothingElse(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={clusterScope.ToString().ToLowerInvariant()}"]);
        _server.SeedSecret(Ns, "rel-requests-proxy-keys", new Dictionary<string, string> { ["active"] = "v1", ["v1"] = new string('k', 64) });
        _server.SeedSecret(Ns, "rel-requests-proxy-admin", new Dictionary<string, string> { ["token"] = "admin" });
        _server.SeedSecret(Jobs, "someone-elses", new Dictionary<string, string> { ["x"] = "y" });
        _server.SeedConfigMap(Ns, "rel-requests-proxy-revoked", new Dictionary<string, string> { ["revoked.json"] = "[]" });
        _server.SeedConfigMap(Ns, "rel-jobs-manager-state", new Dictionary<string, string> { ["jobs.json"] = "{\"version\":1,\"jobs\":[]}" });
        _server.SeedConfigMap(Ns, "unrelated", new Dictionary<string, string> { ["a"] = "b" });
        _server.RbacRules = FakeRbacRule.FromYaml(chart.Yaml);

        // Allowed: exactly the contract of docs/architecture.md — named objects in the release namespace ...
        await _client.CoreV1.ReadNamespacedSecretAsync("rel-requests-proxy-keys", Ns);
        var revoked = await _client.CoreV1.ReadNamespacedConfigMapAsync("rel-requests-proxy-revoked", Ns);
        revoked.Data["revoked.json"] = "[\"jti\"]";
        await _client.CoreV1.ReplaceNamespacedConfigMapAsync(revoked, "rel-requests-proxy-revoked", Ns);
        await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"revoked.json":"[]"}}""", V1Patch.PatchType.MergePatch), "rel-requests-proxy-revoked", Ns);
        var state = await _client.CoreV1.ReadNamespacedConfigMapAsync("rel-jobs-manager-state", Ns);
        state.Data["jobs.json"] = "{\"version\":1,\"jobs\":[{\"name\":\"job-1\"}]}";
        await _client.CoreV1.ReplaceNamespacedConfigMapAsync(state, "rel-jobs-manager-state", Ns);

        // The ConfigMaps the chart no longer renders are created by the jobs-manager (create cannot be
        // scoped by name): a create answers only with what was sent, and the object is then no less name-scoped.
        await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "rel-requests-proxy-legacy-tokens" }, Data = new Dictionary<string, string> { ["legacy-tokens.json"] = "[]" } }, Ns);
        await _client.CoreV1.ReadNamespacedConfigMapAsync("rel-requests-proxy-legacy-tokens", Ns);
        await AssertForbiddenAsync(() => _client.CoreV1.ReadNamespacedConfigMapAsync("new", Ns));

        // ... and Jobs and token Secrets in the job namespace, written whole, never read.
        var token = new V1Secret { Metadata = new V1ObjectMeta { Name = "job-1-requests-proxy-token" }, StringData = new Dictionary<string, string> { ["token"] = "t1" } };
        await _client.CoreV1.CreateNamespacedSecretAsync(token, Jobs);
        token.StringData["token"] = "t2";
        await _client.CoreV1.ReplaceNamespacedSecretAsync(token, "job-1-requests-proxy-token", Jobs);
        await _client.BatchV1.CreateNamespacedJobAsync(Job("job-1"), Jobs);
        await _client.BatchV1.ReadNamespacedJobAsync("job-1", Jobs);
        await _client.BatchV1.ListNamespacedJobAsync(Jobs);
        await _client.BatchV1.DeleteNamespacedJobAsync("job-1", Jobs, propagationPolicy: "Background");

        // Refused: every verb that answers with a Secret (a merge patch `{}` answers with the whole object), anywhere.
        foreach (var (ns, name) in new[] { (Jobs, "someone-elses"), (Jobs, "job-1-requests-proxy-token"), (Ns, "rel-requests-proxy-admin"), (Ns, "rel-requests-proxy-keys") })
        {
            await AssertForbiddenAsync(() => _client.CoreV1.PatchNamespacedSecretAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), name, ns));
            await AssertForbiddenAsync(() => _client.CoreV1.DeleteNamespacedSecretAsync(name, ns));
        }

        await AssertForbiddenAsync(() => _client.CoreV1.ReadNamespacedSecretAsync("someone-elses", Jobs));
        await AssertForbiddenAsync(() => _client.CoreV1.ReadNamespacedSecretAsync("job-1-requests-proxy-token", Jobs));
        await AssertForbiddenAsync(() => _client.CoreV1.ListNamespacedSecretAsync(Jobs));
        await AssertForbiddenAsync(() => _client.CoreV1.ListNamespacedSecretAsync(Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.ReadNamespacedSecretAsync("rel-requests-proxy-admin", Ns));

        // The release namespace: no Secret may be created or replaced there, no Job started.
        await AssertForbiddenAsync(() => _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "x" } }, Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.ReplaceNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "rel-requests-proxy-admin" } }, "rel-requests-proxy-admin", Ns));
        await AssertForbiddenAsync(() => _client.BatchV1.CreateNamespacedJobAsync(Job("job-2"), Ns));
        await AssertForbiddenAsync(() => _client.BatchV1.ListNamespacedJobAsync(Ns));

        await AssertForbiddenAsync(() => _client.CoreV1.ReadNamespacedConfigMapAsync("unrelated", Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.DeleteNamespacedConfigMapAsync("rel-requests-proxy-revoked", Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), "rel-jobs-manager-state", Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.DeleteNamespacedConfigMapAsync("rel-jobs-manager-state", Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.ListNamespacedConfigMapAsync(Ns));
        await AssertForbiddenAsync(() => _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "new" } }, "elsewhere"));
        await AssertForbiddenAsync(() => _client.BatchV1.PatchNamespacedJobAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), "job-1", Jobs));
        await AssertForbiddenAsync(() => _client.CoreV1.ListNamespacedPodAsync(Jobs));

        // Nothing outside the release and job namespaces, in either scope.
        await AssertForbiddenAsync(() => _client.CoreV1.ReadNamespacedSecretAsync("rel-requests-proxy-keys", "elsewhere"));
        await AssertForbiddenAsync(() => _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "x" } }, "elsewhere"));
        await AssertForbiddenAsync(() => _client.BatchV1.CreateNamespacedJobAsync(Job("job-3"), "elsewhere"));
    }

    private static async Task AssertForbiddenAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(call);
        Assert.Equal(HttpStatusCode.Forbidden, error.Response.StatusCode);
    }

    private static V1Job Job(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1JobSpec
        {
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "train", Image = "busybox" }] },
            },
        },
    };
}
