using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.Testing.Tests.FakeKubernetes;

/// <summary>The fake answers the real KubernetesClient, over HTTP, as a real API server would.</summary>
public sealed class FakeKubernetesApiServerTests : IAsyncLifetime
{
    private const string Ns = "jobs";

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

    [Fact]
    public async Task Get_Missing_NotFoundStatus()
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedSecretAsync("nope", Ns));

        var status = Status(error, HttpStatusCode.NotFound);
        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("Failure", status.Status);
        Assert.Equal("secrets \"nope\" not found", status.Message);
        Assert.Equal("nope", status.Details.Name);
    }

    [Fact]
    public async Task Create_New_SetsUidTimestampAndResourceVersion()
    {
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "[]"), Ns);
        var second = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", "[]"), Ns);

        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal(Ns, created.Metadata.NamespaceProperty);
        Assert.True(long.Parse(second.Metadata.ResourceVersion) > long.Parse(created.Metadata.ResourceVersion));
        Assert.Equal(created.Metadata.ResourceVersion, (await _client.CoreV1.ReadNamespacedConfigMapAsync("a", Ns)).Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Create_Existing_AlreadyExists()
    {
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "[]"), Ns);

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "[]"), Ns));

        Assert.Equal("AlreadyExists", Status(error, HttpStatusCode.Conflict).Reason);
    }

    [Fact]
    public async Task Replace_StaleResourceVersion_Conflict()
    {
        var original = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("revoked", "[]"), Ns);
        var fresh = await _client.CoreV1.ReadNamespacedConfigMapAsync("revoked", Ns);
        fresh.Data["revoked.json"] = "[\"a\"]";
        var updated = await _client.CoreV1.ReplaceNamespacedConfigMapAsync(fresh, "revoked", Ns);

        original.Data["revoked.json"] = "[\"b\"]";
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedConfigMapAsync(original, "revoked", Ns));

        var status = Status(error, HttpStatusCode.Conflict);
        Assert.Equal("Conflict", status.Reason);
        Assert.Contains("the object has been modified", status.Message, StringComparison.Ordinal);
        Assert.NotEqual(original.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);
        Assert.Equal("[\"a\"]", (await _client.CoreV1.ReadNamespacedConfigMapAsync("revoked", Ns)).Data["revoked.json"]);
    }

    [Fact]
    public async Task Replace_WithoutResourceVersion_UnconditionalAndNoOpKeepsVersion()
    {
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm", "[]"), Ns);

        var same = await _client.CoreV1.ReplaceNamespacedConfigMapAsync(ConfigMap("cm", "[]"), "cm", Ns);
        var changed = await _client.CoreV1.ReplaceNamespacedConfigMapAsync(ConfigMap("cm", "[1]"), "cm", Ns);

        Assert.Equal(created.Metadata.ResourceVersion, same.Metadata.ResourceVersion);
        Assert.NotEqual(created.Metadata.ResourceVersion, changed.Metadata.ResourceVersion);
        Assert.Equal(created.Metadata.Uid, changed.Metadata.Uid);
    }

    [Fact]
    public async Task Replace_Missing_NotFound()
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedConfigMapAsync(ConfigMap("cm", "[]"), "cm", Ns));

        Assert.Equal("NotFound", Status(error, HttpStatusCode.NotFound).Reason);
    }

    [Fact]
    public async Task Patch_Merge_MergesData()
    {
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "cm", Labels = new Dictionary<string, string> { ["keep"] = "me" } },
            Data = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" },
        }, Ns);

        var patched = await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"10","b":null,"c":"3"}}""", V1Patch.PatchType.MergePatch), "cm", Ns);

        Assert.Equal(new Dictionary<string, string> { ["a"] = "10", ["c"] = "3" }, patched.Data);
        Assert.Equal("me", patched.Metadata.Labels["keep"]);
        Assert.Equal(created.Metadata.Uid, patched.Metadata.Uid);
        Assert.NotEqual(created.Metadata.ResourceVersion, patched.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Patch_StaleResourceVersionInBody_Conflict()
    {
        var created = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("cm", "[]"), Ns);
        await _client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"x":"1"}}""", V1Patch.PatchType.MergePatch), "cm", Ns);

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch($$$"""{"metadata":{"resourceVersion":"{{{created.Metadata.ResourceVersion}}}"},"data":{"x":"2"}}""", V1Patch.PatchType.MergePatch), "cm", Ns));

        Assert.Equal("Conflict", Status(error, HttpStatusCode.Conflict).Reason);
    }

    [Fact]
    public async Task Delete_Missing_NotFound()
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.DeleteNamespacedSecretAsync("nope", Ns));

        Assert.Equal("NotFound", Status(error, HttpStatusCode.NotFound).Reason);
    }

    [Fact]
    public async Task Delete_Existing_GoneAfterwards()
    {
        await _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, StringData = new Dictionary<string, string> { ["token"] = "t" } }, Ns);

        var status = await _client.CoreV1.DeleteNamespacedSecretAsync("s", Ns);

        Assert.Equal("Success", status.Status);
        Assert.Null(_server.Find<V1Secret>(Ns, "s"));
    }

    [Fact]
    public async Task Create_SecretWithStringData_FoldedIntoData()
    {
        var created = await _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, StringData = new Dictionary<string, string> { ["token"] = "t0k3n" } }, Ns);

        Assert.Null(created.StringData);
        Assert.Equal("t0k3n", Encoding.UTF8.GetString(created.Data["token"]));
        Assert.Equal("Opaque", created.Type);
    }

    [Fact]
    public async Task List_LabelSelector_OnlyMatchingItems()
    {
        _server.SeedSecret(Ns, "a", new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string> { ["app"] = "x", ["tier"] = "1" });
        _server.SeedSecret(Ns, "b", new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string> { ["app"] = "x", ["tier"] = "2" });
        _server.SeedSecret(Ns, "c", new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string> { ["app"] = "y" });
        _server.SeedSecret("other", "d", new Dictionary<string, string> { ["k"] = "v" }, new Dictionary<string, string> { ["app"] = "x" });

        var equality = await _client.CoreV1.ListNamespacedSecretAsync(Ns, labelSelector: "app=x");
        var combined = await _client.CoreV1.ListNamespacedSecretAsync(Ns, labelSelector: "app=x,tier=2");

        Assert.Equal(["a", "b"], equality.Items.Select(s => s.Metadata.Name));
        Assert.Equal(["b"], combined.Items.Select(s => s.Metadata.Name));
        Assert.Equal(_server.ResourceVersion, equality.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Rbac_RulesSet_AnythingNotAllowedForbidden()
    {
        _server.SeedSecret(Ns, "keys", new Dictionary<string, string> { ["active"] = "v1" });
        _server.SeedSecret(Ns, "other", new Dictionary<string, string> { ["x"] = "y" });
        _server.RbacRules =
        [
            new FakeRbacRule(["get"], [""], ["secrets"], ["keys"], Ns),
            new FakeRbacRule(["create"], [""], ["secrets"], Namespace: Ns),
        ];

        var keys = await _client.CoreV1.ReadNamespacedSecretAsync("keys", Ns);
        var created = await _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "job-token" } }, Ns);
        var readOther = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedSecretAsync("other", Ns));
        var updateKeys = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReplaceNamespacedSecretAsync(keys, "keys", Ns));
        var list = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ListNamespacedSecretAsync(Ns));
        var otherNamespace = await Assert.ThrowsAsync<HttpOperationException>(() => _client.CoreV1.ReadNamespacedSecretAsync("keys", "elsewhere"));

        Assert.Equal("job-token", created.Metadata.Name);
        var status = Status(readOther, HttpStatusCode.Forbidden);
        Assert.Equal("Forbidden", status.Reason);
        Assert.Equal($"secrets \"other\" is forbidden: User \"{_server.UserName}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"jobs\"", status.Message);
        Assert.Equal("Forbidden", Status(updateKeys, HttpStatusCode.Forbidden).Reason);
        Assert.Equal("Forbidden", Status(list, HttpStatusCode.Forbidden).Reason);
        Assert.Equal("Forbidden", Status(otherNamespace, HttpStatusCode.Forbidden).Reason);
    }

    [Fact]
    public async Task DeleteJob_Background_OwnedSecretCollected()
    {
        var (job, secretName) = await CreateJobWithOwnedSecretAsync("train-1");

        await _client.BatchV1.DeleteNamespacedJobAsync(job.Metadata.Name, Ns, propagationPolicy: "Background");

        Assert.Null(_server.Find<V1Job>(Ns, job.Metadata.Name));
        Assert.Null(_server.Find<V1Secret>(Ns, secretName));
    }

    [Fact]
    public async Task DeleteJob_NoPropagationPolicy_OrphansLikeARealServer()
    {
        var (job, secretName) = await CreateJobWithOwnedSecretAsync("train-2");

        await _client.BatchV1.DeleteNamespacedJobAsync(job.Metadata.Name, Ns);

        var orphan = _server.Find<V1Secret>(Ns, secretName);
        Assert.NotNull(orphan);
        Assert.Null(orphan.Metadata.OwnerReferences);
    }

    [Fact]
    public async Task DeleteSecret_Default_DependentsCollected()
    {
        var owner = await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("owner", "[]"), Ns);
        var dependent = ConfigMap("dependent", "[]");
        dependent.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata.Uid }];
        await _client.CoreV1.CreateNamespacedConfigMapAsync(dependent, Ns);

        await _client.CoreV1.DeleteNamespacedConfigMapAsync("owner", Ns);

        Assert.Null(_server.Find<V1ConfigMap>(Ns, "dependent"));
    }

    [Fact]
    public async Task Replace_FiftyConcurrentWritersRetryingOnConflict_NoUpdateLost()
    {
        await _client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("revoked", "[]"), Ns);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            using var client = _server.CreateClient(Ns);
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var current = await client.CoreV1.ReadNamespacedConfigMapAsync("revoked", Ns);
                var list = JsonSerializer.Deserialize<List<string>>(current.Data["revoked.json"])!;
                list.Add($"jti-{i}");
                current.Data["revoked.json"] = JsonSerializer.Serialize(list);
                try
                {
                    await client.CoreV1.ReplaceNamespacedConfigMapAsync(current, "revoked", Ns);
                    return;
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
                {
                }
            }

            Assert.Fail($"writer {i} never got through");
        })));

        var final = JsonSerializer.Deserialize<List<string>>(_server.Find<V1ConfigMap>(Ns, "revoked")!.Data["revoked.json"])!;
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"jti-{i}").Order(StringComparer.Ordinal), final.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Kubeconfig_Generated_UsableByTheClient()
    {
        var folder = Directory.CreateTempSubdirectory("fake-kube-");
        try
        {
            var path = _server.WriteKubeconfig(folder.FullName, Ns);
            using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(path));
            _server.SeedConfigMap(Ns, "seeded", new Dictionary<string, string> { ["k"] = "v" });

            var read = await client.CoreV1.ReadNamespacedConfigMapAsync("seeded", Ns);
            var version = await client.Version.GetCodeAsync();

            Assert.Equal("v", read.Data["k"]);
            Assert.Equal("1", version.Major);
            Assert.Contains(_server.Requests, r => r is { Verb: "get", Resource: "configmaps", Name: "seeded", StatusCode: 200 });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private async Task<(V1Job Job, string SecretName)> CreateJobWithOwnedSecretAsync(string name)
    {
        var job = await _client.BatchV1.CreateNamespacedJobAsync(Job(name), Ns);
        var secretName = name + "-token";
        await _client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta
            {
                Name = secretName,
                OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = name, Uid = job.Metadata.Uid, BlockOwnerDeletion = true, Controller = true }],
            },
            StringData = new Dictionary<string, string> { ["token"] = "t" },
        }, Ns);
        return (job, secretName);
    }

    private static V1Job Job(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1JobSpec
        {
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    RestartPolicy = "Never",
                    Containers = [new V1Container { Name = "train", Image = "busybox" }],
                },
            },
        },
    };

    private static V1ConfigMap ConfigMap(string name, string revoked) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Data = new Dictionary<string, string> { ["revoked.json"] = revoked },
    };

    private static V1Status Status(HttpOperationException error, HttpStatusCode expected)
    {
        Assert.Equal(expected, error.Response.StatusCode);
        var status = KubernetesJson.Deserialize<V1Status>(error.Response.Content);
        Assert.Equal("Status", status.Kind);
        Assert.Equal("v1", status.ApiVersion);
        Assert.Equal((int)expected, status.Code);
        return status;
    }
}
