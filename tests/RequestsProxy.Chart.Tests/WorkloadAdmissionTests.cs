using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The Job, Pod and ConfigMap rules beside the Secret ones: webhooks of the proxy pods where the cluster has no
/// ValidatingAdmissionPolicy (1.20, 1.28), policies on 1.30+, in both clusterScope modes; the store ConfigMap
/// names from one helper for the Role, the webhook's environment and the policy.
/// </summary>
public sealed class WorkloadAdmissionTests : IDisposable
{
    private const string Configuration = "jobs-rel-jobs-manager-workloads";
    private const string Proxy = "rel-requests-proxy";
    private const string JobsManagerUser = "system:serviceaccount:jobs:rel-jobs-manager";

    private static readonly string[] Kube120 = ["--kube-version", "1.20.2"];
    private static readonly string[] Kube128 = ["--kube-version", "1.28.0"];
    private static readonly string[] Kube130 = ["--kube-version", "1.30.0", "--api-versions", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy"];

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Template_Kubernetes120_ThreeWebhooksServedByTheProxy(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={clusterScope.ToString().ToLowerInvariant()}", "jobNamespaces.names={team-a,team-b}"], null, Kube120);

        var webhooks = Webhooks(chart);
        Assert.Equal(["jobs.jobs-manager.requests-proxy.io", "pods.jobs-manager.requests-proxy.io", "configmaps.jobs-manager.requests-proxy.io"], webhooks.Select(w => w.Str("name")));
        Assert.Equal(["/admission/v1/jobs", "/admission/v1/pods", "/admission/v1/configmaps"], webhooks.Select(w => w.Str("clientConfig", "service", "path")));
        var secrets = chart.Get("ValidatingWebhookConfiguration", "jobs-rel-jobs-manager-secrets")["webhooks"]![0]!;
        foreach (var webhook in webhooks)
        {
            Assert.Equal(("Fail", "None", 5L), (webhook.Str("failurePolicy"), webhook.Str("sideEffects"), webhook["timeoutSeconds"]!.GetValue<long>()));
            // The same Service and CA as the Secret webhook.
            Assert.Equal(secrets["clientConfig"]!["caBundle"]!.ToJsonString(), webhook["clientConfig"]!["caBundle"]!.ToJsonString());
            Assert.Equal(("jobs", "rel-requests-proxy-webhook", 443L), (webhook.Str("clientConfig", "service", "namespace"), webhook.Str("clientConfig", "service", "name"), webhook["clientConfig"]!["service"]!["port"]!.GetValue<long>()));
            Assert.Null(webhook["matchConditions"]);
            Assert.Null(webhook["objectSelector"]);
        }

        Assert.Equal("""[{"operations":["CREATE","UPDATE"],"apiGroups":["batch"],"apiVersions":["v1"],"resources":["jobs"],"scope":"Namespaced"}]""", webhooks[0]["rules"]!.ToJsonString());
        Assert.Equal("""[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"],"scope":"Namespaced"},{"operations":["UPDATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods/ephemeralcontainers"],"scope":"Namespaced"}]""", webhooks[1]["rules"]!.ToJsonString());
        Assert.Equal("""[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"],"scope":"Namespaced"}]""", webhooks[2]["rules"]!.ToJsonString());
        // Jobs and pods in the job namespaces (their label on 1.20), ConfigMaps in the release namespace (the label the operator sets).
        Assert.Equal("""{"matchLabels":{"jobs.jobs.requests-proxy.io/rel":"true"}}""", webhooks[0]["namespaceSelector"]!.ToJsonString());
        Assert.Equal("""{"matchLabels":{"jobs.jobs.requests-proxy.io/rel":"true"}}""", webhooks[1]["namespaceSelector"]!.ToJsonString());
        Assert.Equal("""{"matchLabels":{"jobs.release.requests-proxy.io/rel":"true"}}""", webhooks[2]["namespaceSelector"]!.ToJsonString());

        // Not-ready proxy pods answer too: they wait for the store ConfigMaps the jobs-manager creates through the ConfigMap webhook.
        Assert.True(chart.Get("Service", "rel-requests-proxy-webhook")["spec"]!["publishNotReadyAddresses"]!.GetValue<bool>());
        Assert.Empty(chart.OfKind("ValidatingAdmissionPolicy"));
    }

    [Fact]
    public async Task Template_Kubernetes128_JobsAndConfigMapsOnlyTheJobsManagersPodsEveryones()
    {
        var chart = await _helm.TemplateAsync(extra: Kube128);

        var webhooks = Webhooks(chart);
        var condition = $"request.userInfo.username == '{JobsManagerUser}'";
        Assert.Equal(condition, Assert.Single(webhooks[0]["matchConditions"]!.AsArray())!.Str("expression"));
        Assert.Null(webhooks[1]["matchConditions"]);
        Assert.Equal(condition, Assert.Single(webhooks[2]["matchConditions"]!.AsArray())!.Str("expression"));
        Assert.Equal("""{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"In","values":["jobs-jobs"]}]}""", webhooks[1]["namespaceSelector"]!.ToJsonString());
        Assert.Equal("""{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"In","values":["jobs"]}]}""", webhooks[2]["namespaceSelector"]!.ToJsonString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Template_Kubernetes130_ThreePoliciesAndNoWebhook(bool clusterScope)
    {
        var chart = await _helm.TemplateAsync([$"clusterScope={clusterScope.ToString().ToLowerInvariant()}", "requestsProxy.revoked.shards=2"], null, Kube130);

        Assert.Empty(chart.OfKind("ValidatingWebhookConfiguration"));
        foreach (var resource in new[] { "jobs", "pods", "configmaps" })
        {
            var policy = chart.Get("ValidatingAdmissionPolicy", $"jobs-rel-jobs-manager-{resource}");
            Assert.Equal("Fail", policy.Str("spec", "failurePolicy"));
            var binding = chart.Get("ValidatingAdmissionPolicyBinding", $"jobs-rel-jobs-manager-{resource}");
            Assert.Equal(policy.Str("metadata", "name"), binding.Str("spec", "policyName"));
            Assert.Equal("""["Deny"]""", binding["spec"]!["validationActions"]!.ToJsonString());
        }

        var jobs = chart.Get("ValidatingAdmissionPolicy", "jobs-rel-jobs-manager-jobs");
        Assert.Contains(JobsManagerUser, jobs["spec"]!["matchConditions"]!.ToJsonString(), StringComparison.Ordinal);
        var rules = Messages(jobs);
        foreach (var rule in new[] { "job-reads-its-token-secret-only", "job-gets-no-api-credential", "job-shares-nothing-with-its-node" })
        {
            Assert.Contains(rules, m => m.StartsWith($"rule {rule}: ", StringComparison.Ordinal));
        }

        foreach (var field in new[] { "automountServiceAccountToken", "serviceAccountName", "serviceAccountToken", "hostNetwork", "hostPID", "hostIPC", "nodeName", "hostPath", "privileged", "imagePullSecrets", "secretKeyRef", "envFrom", "nodePublishSecretRef" })
        {
            Assert.Contains(field, Expressions(jobs), StringComparison.Ordinal);
        }

        // Pods: everyone's (no matchConditions); the Job controller's users; every reference form, ephemeral containers too.
        var pods = chart.Get("ValidatingAdmissionPolicy", "jobs-rel-jobs-manager-pods");
        Assert.Null(pods["spec"]!["matchConditions"]);
        var podRules = Expressions(pods);
        var allowed = pods["spec"]!["variables"]!.AsArray().Single(v => v!.Str("name") == "allowed")!.Str("expression");
        Assert.Contains("request.userInfo.username in ['system:serviceaccount:kube-system:job-controller','system:kube-controller-manager']", allowed, StringComparison.Ordinal);
        foreach (var field in new[] { "secretName", "projected", "secretKeyRef", "envFrom", "imagePullSecrets", "ephemeralContainers", "nodePublishSecretRef", "variables.allowed" })
        {
            Assert.Contains(field, podRules, StringComparison.Ordinal);
        }

        Assert.Equal("""{"namespaceSelector":{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"In","values":["jobs-jobs"]}]}}""",
            chart.Get("ValidatingAdmissionPolicyBinding", "jobs-rel-jobs-manager-pods")["spec"]!["matchResources"]!.ToJsonString());

        // ConfigMaps: the store names the Role grants, in the release namespace.
        var configMaps = chart.Get("ValidatingAdmissionPolicy", "jobs-rel-jobs-manager-configmaps");
        Assert.Equal("request.namespace == 'jobs' && object.metadata.name in ['rel-requests-proxy-revoked','rel-requests-proxy-revoked-1','rel-jobs-manager-state','rel-requests-proxy-legacy-tokens']",
            Expressions(configMaps));
    }

    [Theory]
    [InlineData("requestsProxy.revoked.shards=3")]
    [InlineData("jobsManager.state.existingConfigMap=my-ledger")]
    public async Task Template_StoreNames_OneSourceForTheRoleTheWebhookAndTheJobsManager(string set)
    {
        var chart = await _helm.TemplateAsync([set], null, Kube120);

        var role = chart.Get("Role", "rel-jobs-manager");
        var granted = role["rules"]!.AsArray().Where(r => r!["resources"]![0]!.GetValue<string>() == "configmaps" && r["resourceNames"] is not null)
            .SelectMany(r => r!["resourceNames"]!.AsArray().Select(n => n!.GetValue<string>())).Order(StringComparer.Ordinal).ToList();
        var admitted = chart.Env(Proxy)["REQUESTS_PROXY_ADMISSION_STORE_CONFIGMAPS"]!.Split(',').Order(StringComparer.Ordinal).ToList();
        Assert.Equal(granted, admitted);
        var manager = chart.Env("rel-jobs-manager");
        Assert.Contains(manager["JOBS_MANAGER_STATE_CONFIGMAP_NAME"], admitted);
        Assert.Contains(manager["REVOKED_CONFIGMAP_NAME"], admitted);
        Assert.Contains(manager["LEGACY_TOKENS_CONFIGMAP_NAME"], admitted);
        Assert.Equal("system:serviceaccount:kube-system:job-controller,system:kube-controller-manager", chart.Env(Proxy)["REQUESTS_PROXY_ADMISSION_JOB_CONTROLLER_USERS"]);
    }

    private static List<JsonNode> Webhooks(RenderedChart chart) => [.. chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]!.AsArray().Select(w => w!)];

    private static List<string> Messages(JsonObject policy) => [.. policy["spec"]!["validations"]!.AsArray().Select(v => v!.Str("message")!)];

    private static string Expressions(JsonObject policy) => string.Join("\n", policy["spec"]!["validations"]!.AsArray().Select(v => v!.Str("expression")));
}
