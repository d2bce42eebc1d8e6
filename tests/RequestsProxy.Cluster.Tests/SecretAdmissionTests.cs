using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// Issue 14's last gap on Kubernetes &lt; 1.30: RBAC lets the jobs-manager replace (not read) any
/// Secret of a job namespace. The chart's Secret admission webhook, served by the proxy pods and
/// called by the real 1.20 apiserver, refuses that with the jobs-manager's own token — the token
/// controller's <c>default-token-*</c>, an operator's Secret, a create that is not a token Secret —
/// while its own token Secrets are created and refreshed, even with no proxy pod to answer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SecretAdmissionTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private const string ManagedBy = "app.kubernetes.io/managed-by";
    private const string JobsManagerValue = "requests-proxy-jobs-manager";
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [ClusterFact]
    public Task JobsManagerToken_NamespaceScope_OnlyItsOwnSecretsWrittenEvenDuringAProxyOutage() => RunAsync(clusterScope: false, outage: true);

    [ClusterFact]
    public Task JobsManagerToken_ClusterScope_OnlyItsOwnSecretsWritten() => RunAsync(clusterScope: true, outage: false);

    private Task RunAsync(bool clusterScope, bool outage) => ClusterScenario.RunAsync(cluster, output, $"adm-{(clusterScope ? "cs" : "ns")}", async scenario =>
    {
        var release = scenario.Release;
        // Tokens of 40 s (checked every 4 s, a tenth of the lifetime): a refresh, a whole-Secret PUT, ~20 s after a start.
        await release.InstallAsync("--set", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}", "--set", "requestsProxy.tokenTtlSeconds=40");
        var admin = cluster.Client;
        var jobs = release.JobsNamespace;
        var webhook = await admin.AdmissionregistrationV1.ReadValidatingWebhookConfigurationAsync($"{release.Namespace}-{release.Name}-jobs-manager-secrets");
        output.WriteLine($"Kubernetes {cluster.KubernetesVersion}: ValidatingWebhookConfiguration {webhook.Metadata.Name} → Service {webhook.Webhooks[0].ClientConfig.Service.NamespaceProperty}/{webhook.Webhooks[0].ClientConfig.Service.Name}");

        var operatorSecret = await admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "registry-pull" },
            Type = "Opaque",
            StringData = new Dictionary<string, string> { ["credential"] = "the operator's" },
        }, jobs);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        var defaultToken = await ServiceAccountTokens.SecretNameAsync(cluster, jobs, "default", Limit);
        output.WriteLine($"the token controller's {jobs}/{defaultToken} (created through the webhook) found after {stopwatch.Elapsed.TotalSeconds:0} s more");

        using var jobsManager = await ServiceAccountTokens.ClientAsAsync(cluster, release.Namespace, release.JobsManagerName, Limit);
        var failures = new List<string>();

        // Replacing a Secret it did not create — as sent, and with its own label added — is refused and changes nothing.
        foreach (var (name, addLabel) in new[] { (defaultToken, false), (defaultToken, true), ("registry-pull", false), ("registry-pull", true) })
        {
            var before = await admin.CoreV1.ReadNamespacedSecretAsync(name, jobs);
            var overwrite = new V1Secret
            {
                // The stored annotations (a service-account token needs its account's): a request the apiserver's
                // validation lets through, so that only admission stands between it and the Secret.
                Metadata = new V1ObjectMeta { Name = name, Annotations = before.Metadata.Annotations, Labels = addLabel ? new Dictionary<string, string> { [ManagedBy] = JobsManagerValue } : null },
                Type = before.Type,
                StringData = new Dictionary<string, string> { ["token"] = "overwritten by the jobs-manager" },
            };
            var (status, message) = await TryAsync(() => jobsManager.CoreV1.ReplaceNamespacedSecretAsync(overwrite, name, jobs));
            Report(failures, $"PUT {jobs}/{name}{(addLabel ? " adding its label" : "")}", status, message, "replace-own-secrets-only");
            var after = await admin.CoreV1.ReadNamespacedSecretAsync(name, jobs);
            if (after.Metadata.ResourceVersion != before.Metadata.ResourceVersion || !SameData(before, after))
            {
                failures.Add($"{jobs}/{name} changed (resourceVersion {before.Metadata.ResourceVersion} → {after.Metadata.ResourceVersion})");
            }
        }

        Assert.Equal("the operator's", Encoding.UTF8.GetString((await admin.CoreV1.ReadNamespacedSecretAsync("registry-pull", jobs)).Data["credential"]));
        Assert.Equal(operatorSecret.Metadata.ResourceVersion, (await admin.CoreV1.ReadNamespacedSecretAsync("registry-pull", jobs)).Metadata.ResourceVersion);

        // Creating anything but a labelled token Secret is refused: a service-account token (which the
        // token controller would fill), an unlabelled or misnamed one.
        var creates = new[]
        {
            ("minted-default", "kubernetes.io/service-account-token", false, new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = "default" }),
            ("x-requests-proxy-token", "kubernetes.io/service-account-token", false, new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = "default" }),
            ("x-requests-proxy-token", "Opaque", false, null),
            ("pull-copy", "Opaque", false, null),
        };
        foreach (var (name, type, labelled, annotations) in creates)
        {
            var secret = new V1Secret { Metadata = new V1ObjectMeta { Name = name, Annotations = annotations, Labels = labelled ? new Dictionary<string, string> { [ManagedBy] = JobsManagerValue } : null }, Type = type };
            var (status, message) = await TryAsync(() => jobsManager.CoreV1.CreateNamespacedSecretAsync(secret, jobs));
            Report(failures, $"create {type} Secret {jobs}/{name}", status, message, "create-token-secrets-only");
            if (!await Wait.IsGoneAsync(() => admin.CoreV1.ReadNamespacedSecretAsync(name, jobs)))
            {
                failures.Add($"{jobs}/{name} exists after a refused create");
            }
        }

        // Known and documented (docs/operations.md#job-namespaces): a create that carries the jobs-manager's label
        // skips the webhook (objectSelector: so a proxy outage never blocks a token Secret), service-account type or
        // not. Its token is still unreadable to the jobs-manager, and whoever can create a Job in the job namespace
        // can already run as that account.
        var labelledMint = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "minted-labelled", Labels = new Dictionary<string, string> { [ManagedBy] = JobsManagerValue }, Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = "default" } },
            Type = "kubernetes.io/service-account-token",
        };
        var (labelledStatus, _) = await TryAsync(() => jobsManager.CoreV1.CreateNamespacedSecretAsync(labelledMint, jobs));
        output.WriteLine($"known gap: create a labelled service-account-token Secret: {Describe(labelledStatus, null)} (skips the webhook by its label)");
        if (labelledStatus == HttpStatusCode.Created)
        {
            var (get, _) = await TryAsync(() => jobsManager.CoreV1.ReadNamespacedSecretAsync("minted-labelled", jobs));
            output.WriteLine($"    GET {jobs}/minted-labelled: {Describe(get, null)}");
            Assert.Equal(HttpStatusCode.Forbidden, get);
        }

        // Its own token Secrets: created at start and replaced on refresh, through the webhook's objectSelector.
        using var api = await JobsManagerApi.ConnectAsync(release);
        await api.StartTrainerAsync("adm-1", cluster.WorkloadImage, seconds: 600);
        await WaitForRefreshAsync(api, jobs, "adm-1");

        if (outage)
        {
            // No proxy pod: the webhook cannot answer (failurePolicy Fail). The jobs-manager's own Secrets are never
            // sent to it, so starts and refreshes go on; a replace of anyone else's Secret fails, and changes nothing.
            await cluster.KubectlCheckedAsync("-n", release.Namespace, "scale", "deployment", release.ProxyName, "--replicas=0");
            await Wait.UntilAsync("no proxy pod left", Limit, async () => (await release.ProxyPodsAsync()).Count == 0);
            var before = await admin.CoreV1.ReadNamespacedSecretAsync("registry-pull", jobs);
            var (status, message) = (HttpStatusCode.OK, (string?)null);
            // Until kube-proxy has dropped the last endpoint a terminating pod may still answer (a 403); every try must change nothing.
            await Wait.UntilAsync("the webhook unreachable for the apiserver", Limit, async () =>
            {
                (status, message) = await TryAsync(() => jobsManager.CoreV1.ReplaceNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "registry-pull" }, StringData = new Dictionary<string, string> { ["x"] = "y" } }, "registry-pull", jobs));
                Assert.NotEqual(HttpStatusCode.Created, status);
                Assert.Equal(before.Metadata.ResourceVersion, (await admin.CoreV1.ReadNamespacedSecretAsync("registry-pull", jobs)).Metadata.ResourceVersion);
                return message?.Contains("failed calling webhook", StringComparison.Ordinal) == true;
            });
            output.WriteLine($"proxy down: PUT {jobs}/registry-pull: {Describe(status, message)}");

            await api.StartTrainerAsync("adm-2", cluster.WorkloadImage, seconds: 600);
            output.WriteLine("proxy down: job adm-2 started (its token Secret created)");
            await WaitForRefreshAsync(api, jobs, "adm-2");
            await WaitForRefreshAsync(api, jobs, "adm-1");

            await cluster.KubectlCheckedAsync("-n", release.Namespace, "scale", "deployment", release.ProxyName, "--replicas=2");
            await release.WaitForDeploymentAsync(release.ProxyName, Limit);
            await release.WaitForSecretAdmissionAsync();
        }

        Assert.True(failures.Count == 0, $"{failures.Count} Secret writes were not refused as they must be:\n{string.Join('\n', failures)}");
    });

    /// <summary>Waits until the jobs-manager has replaced the job's token Secret with a new token (its jti annotation changes).</summary>
    private async Task WaitForRefreshAsync(JobsManagerApi api, string jobs, string job)
    {
        var secretName = $"{job}-requests-proxy-token";
        var first = (await cluster.Client.CoreV1.ReadNamespacedSecretAsync(secretName, jobs)).Metadata.Annotations["requests-proxy.io/token-jti"];
        var took = await Wait.UntilAsync($"a refresh of {jobs}/{secretName}", TimeSpan.FromSeconds(90), async () =>
            (await cluster.Client.CoreV1.ReadNamespacedSecretAsync(secretName, jobs)).Metadata.Annotations["requests-proxy.io/token-jti"] != first);
        var current = (await api.GetAsync(job))!["token"]!["jti"]!.GetValue<string>();
        var stored = (await cluster.Client.CoreV1.ReadNamespacedSecretAsync(secretName, jobs)).Metadata.Annotations["requests-proxy.io/token-jti"];
        output.WriteLine($"{job}: token Secret refreshed after {took.TotalSeconds:0} s (jti {first} → {stored}; the jobs-manager's current {current})");
    }

    private void Report(List<string> failures, string step, HttpStatusCode status, string? message, string rule)
    {
        output.WriteLine($"{step}: {Describe(status, message)}");
        if (status != HttpStatusCode.Forbidden || message?.Contains("denied the request", StringComparison.Ordinal) != true || !message.Contains($"rule {rule}", StringComparison.Ordinal))
        {
            failures.Add($"{step}: expected 403 from the webhook (rule {rule}), got {Describe(status, message)}");
        }
    }

    private static string Describe(HttpStatusCode status, string? message) =>
        status is HttpStatusCode.OK or HttpStatusCode.Created ? "succeeded" : $"{(int)status} {message}";

    private static bool SameData(V1Secret a, V1Secret b) =>
        (a.Data ?? new Dictionary<string, byte[]>()).OrderBy(p => p.Key).SequenceEqual((b.Data ?? new Dictionary<string, byte[]>()).OrderBy(p => p.Key),
            EqualityComparer<KeyValuePair<string, byte[]>>.Create((x, y) => x.Key == y.Key && x.Value.AsSpan().SequenceEqual(y.Value), p => p.Key.GetHashCode(StringComparison.Ordinal)));

    private static async Task<(HttpStatusCode Status, string? Message)> TryAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return (HttpStatusCode.Created, null);
        }
        catch (HttpOperationException e)
        {
            return (e.Response.StatusCode, e.Response.Content);
        }
    }
}
