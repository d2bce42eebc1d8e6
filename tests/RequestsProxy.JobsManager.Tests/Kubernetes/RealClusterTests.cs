using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>
/// Optional suite against a REAL cluster (kind, minikube, a dev namespace): K8S_E2E_KUBECONFIG
/// (required), K8S_E2E_NAMESPACE (default "default"), K8S_E2E_IMAGE (default busybox:1.36).
/// It creates a ConfigMap and Jobs with unique names and deletes them afterwards.
/// </summary>
public sealed class RealClusterTests
{
    [RealClusterFact]
    public async Task Lifecycle_RealCluster_TokenSecretDeliveredRefreshedRevokedAndCollected()
    {
        var ns = Environment.GetEnvironmentVariable("K8S_E2E_NAMESPACE") is { Length: > 0 } n ? n : "default";
        var image = Environment.GetEnvironmentVariable("K8S_E2E_IMAGE") is { Length: > 0 } i ? i : "busybox:1.36";
        using var client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Environment.GetEnvironmentVariable(RealClusterFactAttribute.Variable)));
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var configMap = $"rp-e2e-{suffix}-revoked";
        var stateConfigMap = $"rp-e2e-{suffix}-jobs-manager-state";
        var name = $"rp-e2e-{suffix}";
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = configMap }, Data = new Dictionary<string, string> { ["revoked.json"] = "[]" } }, ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = stateConfigMap }, Data = new Dictionary<string, string> { ["jobs.json"] = KubernetesHarness.EmptyLedger } }, ns);
        using var meters = new TestMeterFactory();
        var options = KubernetesHarness.Options(configMap);
        options.Namespace = ns;
        options.ReleaseName = "rp-e2e";
        options.StateConfigMapName = stateConfigMap;
        using var core = new CoreHarness(
            options: options,
            runtimeFactory: o => new KubernetesJobRuntime(client, o, NullLogger<KubernetesJobRuntime>.Instance),
            storeFactory: o => KubernetesHarness.RevocationStore(client, o, new JobsManagerMetrics(meters)),
            ledgerStoreFactory: o => KubernetesHarness.LedgerStore(client, o, new JobsManagerMetrics(meters)),
            restore: false);
        try
        {
            Assert.True(await core.Manager.RestoreAsync(CancellationToken.None), core.Manager.RestoreProblem);
            var spec = CoreHarness.Spec(name, image, "/bin/sh", "-c", "cat \"$REQUESTS_PROXY_TOKEN_FILE\" > /dev/null && sleep 600");
            var started = await core.Manager.StartAsync(spec, CancellationToken.None);
            Assert.True(started.Succeeded, started.Message);
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(KubernetesNames.TokenSecretName(name), ns);
            Assert.Equal(name, Assert.Single(secret.Metadata.OwnerReferences).Name);

            core.Time.Advance(TimeSpan.FromMinutes(31));
            Assert.Equal(1, await core.Manager.RefreshAsync(CancellationToken.None));

            var stopped = await core.Manager.StopAsync(name, CancellationToken.None);
            Assert.True(stopped.Succeeded, stopped.Message);
            var stored = await client.CoreV1.ReadNamespacedConfigMapAsync(configMap, ns);
            Assert.True(RevocationList.TryParse(Encoding.UTF8.GetBytes(stored.Data["revoked.json"]), out var list, out _));
            Assert.Equal(2, list.Count);

            // The real garbage collector removes the owned Secret (asynchronously).
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (true)
            {
                try
                {
                    await client.CoreV1.ReadNamespacedSecretAsync(KubernetesNames.TokenSecretName(name), ns);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, "the token Secret was not garbage-collected within 90 s");
                await Task.Delay(1000);
            }
        }
        finally
        {
            await IgnoreNotFound(() => client.BatchV1.DeleteNamespacedJobAsync(name, ns, propagationPolicy: "Background"));
            await IgnoreNotFound(() => client.CoreV1.DeleteNamespacedConfigMapAsync(configMap, ns));
            await IgnoreNotFound(() => client.CoreV1.DeleteNamespacedConfigMapAsync(stateConfigMap, ns));
        }
    }

    private static async Task IgnoreNotFound(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }
}
