using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>
/// Issue 14's two escalations, tried with the jobs-manager's own service-account token against the
/// real apiserver and authorizer: (a) create a service-account-token Secret annotated for another
/// account, then read the minted token back with <c>PATCH {}</c>; (b) <c>PATCH {}</c> an existing
/// Secret, which answers with the whole object though <c>get</c> is forbidden. Both must end in 403
/// in both clusterScope modes, and no Secret the jobs-manager did not write may be read or deleted.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class EscalationTests(ClusterFixture cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [ClusterFact]
    public Task JobsManagerToken_NamespaceScope_BothEscalationsForbidden() => TryEscalationsAsync(clusterScope: false);

    [ClusterFact]
    public Task JobsManagerToken_ClusterScope_BothEscalationsForbidden() => TryEscalationsAsync(clusterScope: true);

    private Task TryEscalationsAsync(bool clusterScope) => ClusterScenario.RunAsync(cluster, output, $"esc-{(clusterScope ? "cs" : "ns")}", async scenario =>
    {
        var release = scenario.Release;
        var failures = new List<string>();
        await cluster.HelmCheckedAsync(["install", release.Name, ClusterFixture.ChartPath, "-n", release.Namespace, "--wait", "--timeout", "5m", .. release.BaseValues, "--set", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}"]);
        // The operator's Secret below is created through the Secret admission webhook (failurePolicy Fail).
        await release.WaitForSecretAdmissionAsync();
        var admin = cluster.Client;
        var jobs = release.JobsNamespace;
        var foreign = new V1Secret { Metadata = new V1ObjectMeta { Name = "someone-elses" }, StringData = new Dictionary<string, string> { ["credential"] = "not-for-the-jobs-manager" } };
        await admin.CoreV1.CreateNamespacedSecretAsync(foreign, jobs);
        await admin.CoreV1.CreateNamespacedSecretAsync(foreign, release.Namespace);
        var gcToken = await TokenSecretOfAsync("kube-system", "generic-garbage-collector");
        var defaultToken = await TokenSecretOfAsync(jobs, "default");
        using var jobsManager = await ServiceAccountTokens.ClientAsAsync(cluster, release.Namespace, release.JobsManagerName, Limit);
        output.WriteLine($"as system:serviceaccount:{release.Namespace}:{release.JobsManagerName} (its own token), clusterScope={clusterScope}");

        // (a) A service-account token minted for another account, then read back with PATCH {}.
        foreach (var (ns, account) in new[] { ("kube-system", "generic-garbage-collector"), (release.Namespace, release.JobsManagerName), (release.Namespace, "default"), (jobs, "default") })
        {
            var name = $"minted-{account}".Replace("generic-garbage-collector", "gc", StringComparison.Ordinal);
            var mint = new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = name, Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = account } },
                Type = "kubernetes.io/service-account-token",
            };
            var create = await TryAsync(() => jobsManager.CoreV1.CreateNamespacedSecretAsync(mint, ns));
            Report($"(a) create service-account-token Secret {ns}/{name} for {account}", create);
            if (create != HttpStatusCode.Created)
            {
                Expect(failures, $"(a) create {ns}/{name}", create, HttpStatusCode.Forbidden);
                continue;
            }

            // RBAC cannot refuse a create by type: only the job namespace, whose accounts have no rights, lets it through.
            Assert.Equal(jobs, ns);
            await Wait.UntilAsync($"the token controller minting a token into {ns}/{name}", Limit, async () =>
                (await admin.CoreV1.ReadNamespacedSecretAsync(name, ns)).Data?.ContainsKey("token") == true);
            var patch = await TryAsync(() => jobsManager.CoreV1.PatchNamespacedSecretAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), name, ns));
            Report($"(a) PATCH {{}} {ns}/{name} (the minted token)", patch);
            Expect(failures, $"(a) PATCH {{}} {ns}/{name}", patch, HttpStatusCode.Forbidden);
            var get = await TryAsync(() => jobsManager.CoreV1.ReadNamespacedSecretAsync(name, ns));
            Report($"(a) GET {ns}/{name}", get);
            Expect(failures, $"(a) GET {ns}/{name}", get, HttpStatusCode.Forbidden);

            // A replace answers with what was sent, never with the minted token.
            var replaced = await jobsManager.CoreV1.ReplaceNamespacedSecretAsync(mint, name, ns);
            var leaked = replaced.Data?.ContainsKey("token") == true;
            output.WriteLine($"(a) PUT {ns}/{name}: 200, the answer holds {(leaked ? "THE TOKEN" : "no token")}");
            if (leaked)
            {
                failures.Add($"(a) PUT {ns}/{name} answered with the minted token");
            }
        }

        var list = await TryAsync(() => jobsManager.CoreV1.ListNamespacedSecretAsync(jobs));
        Report($"(a) LIST secrets in {jobs}", list);
        Expect(failures, $"(a) LIST {jobs}", list, HttpStatusCode.Forbidden);

        // (b) PATCH {} (and every other read or change) on Secrets the jobs-manager did not create.
        var targets = new[]
        {
            ("kube-system", gcToken), (release.Namespace, release.AdminSecretName), (release.Namespace, release.KeysSecretName),
            (release.Namespace, "someone-elses"), (jobs, "someone-elses"), (jobs, defaultToken),
        };
        foreach (var (ns, name) in targets)
        {
            var patch = await TryAsync(() => jobsManager.CoreV1.PatchNamespacedSecretAsync(new V1Patch("{}", V1Patch.PatchType.MergePatch), name, ns));
            Report($"(b) PATCH {{}} {ns}/{name}", patch);
            Expect(failures, $"(b) PATCH {{}} {ns}/{name}", patch, HttpStatusCode.Forbidden);
            var delete = await TryAsync(() => jobsManager.CoreV1.DeleteNamespacedSecretAsync(name, ns));
            Report($"    DELETE {ns}/{name}", delete);
            Expect(failures, $"DELETE {ns}/{name}", delete, HttpStatusCode.Forbidden);
            if (name != release.KeysSecretName)
            {
                var get = await TryAsync(() => jobsManager.CoreV1.ReadNamespacedSecretAsync(name, ns));
                Report($"    GET {ns}/{name}", get);
                Expect(failures, $"GET {ns}/{name}", get, HttpStatusCode.Forbidden);
            }

            if (ns != jobs)
            {
                var put = await TryAsync(() => jobsManager.CoreV1.ReplaceNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = name } }, name, ns));
                Report($"    PUT {ns}/{name}", put);
                Expect(failures, $"PUT {ns}/{name}", put, HttpStatusCode.Forbidden);
            }
        }

        // The one change RBAC cannot refuse (it cannot scope update to names not known in advance): a replace
        // in the job namespace. On 1.20 the chart's Secret admission webhook refuses it (SecretAdmissionTests
        // tries every case and reads the Secret back).
        var replaceForeign = await TryAsync(() => jobsManager.CoreV1.ReplaceNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "someone-elses" }, StringData = new Dictionary<string, string> { ["x"] = "y" } }, "someone-elses", jobs));
        Report($"    PUT {jobs}/someone-elses (Kubernetes {cluster.KubernetesVersion}: the chart's Secret admission webhook)", replaceForeign);
        Expect(failures, $"PUT {jobs}/someone-elses", replaceForeign, HttpStatusCode.Forbidden);

        foreach (var (verb, ns) in new[] { ("create Job", release.Namespace), ("create Job", "kube-system"), ("create Secret", release.Namespace), ("create Secret", "kube-system") })
        {
            var status = verb == "create Job"
                ? await TryAsync(() => jobsManager.BatchV1.CreateNamespacedJobAsync(new V1Job { Metadata = new V1ObjectMeta { Name = "x" }, Spec = new V1JobSpec { Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "x", Image = "x" }] } } } }, ns))
                : await TryAsync(() => jobsManager.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "x" } }, ns));
            Report($"    {verb} in {ns}", status);
            Expect(failures, $"{verb} in {ns}", status, HttpStatusCode.Forbidden);
        }

        var tokenRequest = await TryAsync(() => jobsManager.CoreV1.CreateNamespacedServiceAccountTokenAsync(new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { Audiences = ["api"] } }, "default", jobs));
        Report($"    create serviceaccounts/token for {jobs}/default", tokenRequest);
        Expect(failures, "TokenRequest", tokenRequest, HttpStatusCode.Forbidden);

        Assert.True(failures.Count == 0, $"{failures.Count} escalation steps were not refused:\n{string.Join('\n', failures)}");
    }, withUpstream: false);

    private Task<string> TokenSecretOfAsync(string ns, string account) => ServiceAccountTokens.SecretNameAsync(cluster, ns, account, Limit);

    private static async Task<HttpStatusCode> TryAsync<T>(Func<Task<T>> call)
    {
        try
        {
            await call();
            return HttpStatusCode.Created;
        }
        catch (HttpOperationException e)
        {
            return e.Response.StatusCode;
        }
    }

    private void Report(string step, HttpStatusCode status) => output.WriteLine($"{step}: {(status == HttpStatusCode.Created ? "succeeded" : $"{(int)status} {status}")}");

    private static void Expect(List<string> failures, string step, HttpStatusCode actual, HttpStatusCode expected)
    {
        if (actual != expected)
        {
            failures.Add($"{step}: expected {(int)expected}, got {(actual == HttpStatusCode.Created ? "success" : ((int)actual).ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        }
    }
}
