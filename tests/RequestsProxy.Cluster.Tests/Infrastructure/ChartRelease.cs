using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Xunit.Sdk;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>
/// One helm release of deploy/charts/requests-proxy in its own namespace, installed unmodified:
/// only values are set (the local registry's images, stateless tokens, the in-cluster upstream).
/// </summary>
public sealed class ChartRelease(ClusterFixture cluster, string @namespace, string name = "rp")
{
    public string Namespace => @namespace;

    /// <summary>The chart's default job namespace (<c>jobNamespaces.names</c> empty): training Jobs and token Secrets.</summary>
    public string JobsNamespace => $"{@namespace}-jobs";

    public string Name => name;

    public string ProxyName => $"{name}-requests-proxy";

    public string JobsManagerName => $"{name}-jobs-manager";

    public string KeysSecretName => $"{name}-requests-proxy-keys";

    public string RevokedConfigMapName => $"{name}-requests-proxy-revoked";

    public string StateConfigMapName => $"{name}-jobs-manager-state";

    public string AdminSecretName => $"{name}-requests-proxy-admin";

    public string LegacyTokensConfigMapName => $"{name}-requests-proxy-legacy-tokens";

    /// <summary>
    /// The values every release here uses: images from the local registry, pulled on every pod start
    /// — the tag is the chart's appVersion whatever the sources, so with IfNotPresent a reused node
    /// would keep running the image of whichever tree pushed it first.
    /// </summary>
    public IReadOnlyList<string> BaseValues =>
    [
        "--set", $"requestsProxy.image.registry={cluster.Registry}",
        "--set", $"jobsManager.image.registry={cluster.Registry}",
        "--set", "requestsProxy.image.pullPolicy=Always",
        "--set", "jobsManager.image.pullPolicy=Always",
        "--set", "requestsProxy.statelessTokens=true",
        "--set", $"requestsProxy.upstream.url=http://{Workloads.UpstreamName}.{@namespace}.svc:8080",
    ];

    public async Task CreateNamespaceAsync()
    {
        await cluster.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = @namespace, Labels = new Dictionary<string, string> { ["requests-proxy.io/cluster-test"] = "true" } } });
        // The namespace's default service account must exist before pods can be created in it.
        await Wait.UntilAsync($"the default service account of {@namespace}", TimeSpan.FromSeconds(60), async () =>
        {
            var sa = await cluster.Client.CoreV1.ListNamespacedServiceAccountAsync(@namespace);
            return sa.Items.Any(a => a.Metadata.Name == "default" && a.Secrets is { Count: > 0 });
        });
    }

    /// <summary><c>helm install</c>, wait until every Deployment is available and the Secret admission webhook answers.</summary>
    public async Task<string> InstallAsync(params string[] values)
    {
        var output = await cluster.HelmCheckedAsync(["install", name, ClusterFixture.ChartPath, "-n", @namespace, "--wait", "--timeout", "5m", .. BaseValues, .. values]);
        await WaitForSecretAdmissionAsync();
        return output;
    }

    /// <summary>
    /// Until the apiserver reaches the chart's Secret admission webhook: a Ready proxy pod is not yet an
    /// endpoint kube-proxy routes the webhook Service's ClusterIP to, and until it is every create of an
    /// unlabelled Secret in the job namespace fails (failurePolicy Fail). A dry run runs the webhook and
    /// writes nothing; without a webhook (or a job namespace) it succeeds at once.
    /// </summary>
    public Task WaitForSecretAdmissionAsync() =>
        Wait.UntilAsync($"the Secret admission webhook answering for {JobsNamespace}", TimeSpan.FromMinutes(2), async () =>
        {
            try
            {
                await cluster.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "admission-probe" } }, JobsNamespace, dryRun: "All");
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict)
            {
            }

            return true;
        });

    public Task<string> UpgradeAsync(params string[] arguments) =>
        cluster.HelmCheckedAsync(["upgrade", name, ClusterFixture.ChartPath, "-n", @namespace, "--wait", "--timeout", "5m", .. arguments]);

    public Task<string> UninstallAsync() =>
        cluster.HelmCheckedAsync("uninstall", name, "-n", @namespace, "--wait", "--timeout", "3m");

    public Task<string> ManifestAsync() => cluster.HelmCheckedAsync("get", "manifest", name, "-n", @namespace);

    /// <summary>Every revocation ConfigMap of the release (one per shard, <c>requestsProxy.revoked.shards</c>), by name.</summary>
    public async Task<IReadOnlyList<V1ConfigMap>> RevokedConfigMapsAsync()
    {
        // By name: the jobs-manager creates them without app.kubernetes.io/instance (Argo CD would prune them), older charts rendered them with it.
        var maps = await cluster.Client.CoreV1.ListNamespacedConfigMapAsync(@namespace, labelSelector: "app.kubernetes.io/component=revocations");
        return [.. maps.Items.Where(m => m.Metadata.Name == RevokedConfigMapName || m.Metadata.Name.StartsWith(RevokedConfigMapName + "-", StringComparison.Ordinal))
            .OrderBy(m => m.Metadata.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every jti of the revocation list, across its shards (an entry is a bare jti or an object with one).</summary>
    public async Task<HashSet<string>> RevokedJtisAsync()
    {
        var jtis = new HashSet<string>(StringComparer.Ordinal);
        foreach (var map in await RevokedConfigMapsAsync())
        {
            if (map.Data?.TryGetValue("revoked.json", out var json) != true)
            {
                continue;
            }

            foreach (var e in JsonNode.Parse(json!)!.AsArray())
            {
                jtis.Add(e is JsonObject o ? o["jti"]!.GetValue<string>() : e!.GetValue<string>());
            }
        }

        return jtis;
    }

    public async Task<string> AdminTokenAsync()
    {
        var secret = await cluster.Client.CoreV1.ReadNamespacedSecretAsync(AdminSecretName, @namespace);
        return Encoding.UTF8.GetString(secret.Data["token"]);
    }

    public async Task<IReadOnlyList<V1Pod>> ProxyPodsAsync()
    {
        var pods = await cluster.Client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: $"app.kubernetes.io/instance={name},app.kubernetes.io/component=proxy");
        return [.. pods.Items.Where(p => p.Metadata.DeletionTimestamp is null)];
    }

    /// <summary>Deletes proxy pods with the default grace period (SIGTERM, as on a drain or a rollout) and waits for two Ready replacements.</summary>
    public async Task DeleteProxyPodsAsync(TimeSpan limit, params string[] pods)
    {
        await cluster.KubectlCheckedAsync(["-n", @namespace, "delete", "pod", "--wait=false", .. pods]);
        await WaitForReadyProxiesAsync(p => !pods.Contains(p.Metadata.Name), $"two Ready proxy pods replacing {string.Join(", ", pods)}", limit);
    }

    /// <summary>Waits until two proxy pods that satisfy <paramref name="fresh"/> are Ready.</summary>
    public Task WaitForReadyProxiesAsync(Func<V1Pod, bool> fresh, string what, TimeSpan limit) =>
        Wait.UntilAsync(what, limit, async () =>
        {
            var pods = await cluster.Client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: $"app.kubernetes.io/instance={name},app.kubernetes.io/component=proxy");
            return pods.Items.Count(p => p.Metadata.DeletionTimestamp is null && fresh(p)
                && p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true) == 2;
        });

    /// <summary>Waits until the Deployment has all its replicas updated and Ready (and no old pod left).</summary>
    public Task WaitForDeploymentAsync(string deployment, TimeSpan limit) =>
        Wait.UntilAsync($"Deployment {@namespace}/{deployment} fully available", limit, async () =>
        {
            var d = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync(deployment, @namespace);
            var want = d.Spec.Replicas ?? 1;
            return d.Status.ObservedGeneration >= d.Metadata.Generation
                && d.Status.UpdatedReplicas == want && d.Status.ReadyReplicas == want && (d.Status.Replicas ?? 0) == want;
        });

    /// <summary>The ClusterIP URL of one of the release's Services (this host reaches ClusterIPs through kube-proxy).</summary>
    public async Task<Uri> ServiceUrlAsync(string service)
    {
        var s = await cluster.Client.CoreV1.ReadNamespacedServiceAsync(service, @namespace);
        return new Uri($"http://{s.Spec.ClusterIP}:{s.Spec.Ports[0].Port}");
    }

    public async Task DeleteNamespaceAsync()
    {
        try
        {
            await cluster.HelmAsync("uninstall", name, "-n", @namespace, "--wait", "--timeout", "2m");
        }
        catch (XunitException)
        {
        }

        // Cluster-scoped, so not deleted with the namespace: a webhook configuration left by a failed uninstall
        // would keep calling a Service that is gone (failurePolicy Fail) for this release's job namespace label.
        try
        {
            await cluster.Client.AdmissionregistrationV1.DeleteValidatingWebhookConfigurationAsync($"{@namespace}-{name}-jobs-manager-secrets");
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
        }

        // The job namespace is kept on uninstall (helm.sh/resource-policy: keep): it goes with the test.
        foreach (var ns in new[] { JobsNamespace, @namespace })
        {
            try
            {
                await cluster.Client.CoreV1.DeleteNamespaceAsync(ns);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
            }
        }
    }
}
