using System.Text.Json.Nodes;

namespace RequestsProxy.Chart.Tests;

/// <summary>Both Deployments' mounts, environment and hardening (docs/architecture.md, DESIGN §9).</summary>
public sealed class DeploymentTests : IDisposable
{
    private const string Proxy = "rel-requests-proxy";
    private const string JobsManager = "rel-jobs-manager";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Default_ProxyMountsAndEnv()
    {
        var chart = await _helm.TemplateAsync();

        Assert.Equal(
            new Dictionary<string, (string, string?)>
            {
                ["/etc/proxy/keys/"] = ("secret", "rel-requests-proxy-keys"),
                ["/etc/proxy/revoked/"] = ("projected", string.Join(",", ["rel-requests-proxy-revoked", .. Enumerable.Range(1, 15).Select(i => $"rel-requests-proxy-revoked-{i}")])),
                ["/etc/proxy/legacy-tokens/"] = ("configMap", "rel-requests-proxy-legacy-tokens"),
                ["/etc/proxy/admin/"] = ("secret", "rel-requests-proxy-admin"),
                // helm template's default capabilities have no ValidatingAdmissionPolicy: the Secret admission webhook.
                ["/etc/proxy/webhook-tls/"] = ("secret", "rel-requests-proxy-webhook-tls"),
                ["/tmp"] = ("emptyDir", null),
            },
            chart.Mounts(Proxy));
        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["ASPNETCORE_URLS"] = "http://0.0.0.0:8888",
                ["REQUESTS_PROXY_MANAGEMENT_URLS"] = "http://0.0.0.0:9090",
                ["REQUESTS_PROXY_MAX_CONNECTIONS"] = "2000",
                ["REQUESTS_PROXY_MAX_CONNECTIONS_PER_CLIENT"] = "100",
                ["REQUESTS_PROXY_IDLE_TIMEOUT_SECONDS"] = "120",
                ["REQUESTS_PROXY_STATELESS"] = "false",
                ["REQUESTS_PROXY_LEGACY_SYNC_WAIT_SECONDS"] = "60",
                ["RELEASE_NAME"] = "rel",
                ["NAMESPACE"] = HelmChart.Namespace,
                ["REQUESTS_PROXY_KEYS_DIR"] = "/etc/proxy/keys",
                ["REQUESTS_PROXY_REVOKED_DIR"] = "/etc/proxy/revoked",
                ["REQUESTS_PROXY_KEYS_POLL_SECONDS"] = "10",
                ["REQUESTS_PROXY_REVOKED_POLL_SECONDS"] = "10",
                ["REQUESTS_PROXY_REVOKED_SHARDS"] = "16",
                ["REQUESTS_PROXY_LEGACY_TOKENS_DIR"] = "/etc/proxy/legacy-tokens",
                ["REQUESTS_PROXY_LEGACY_TOKENS_POLL_SECONDS"] = "10",
                ["REQUESTS_PROXY_LEGACY_TOKENS_REQUIRED"] = "true",
                ["REQUESTS_PROXY_RATE_LIMIT_PER_SECOND"] = "50",
                ["REQUESTS_PROXY_RATE_LIMIT_BURST"] = "100",
                ["REQUESTS_PROXY_CONCURRENCY_LIMIT"] = "16",
                ["REQUESTS_PROXY_ADMIN_TOKEN_FILE"] = "/etc/proxy/admin/token",
                ["REQUESTS_PROXY_ADMIN_ACCEPT_BEARER"] = "true",
                ["REQUESTS_PROXY_UPSTREAM"] = HelmChart.Upstream,
                ["REQUESTS_PROXY_ADMISSION_URLS"] = "https://0.0.0.0:9443",
                ["REQUESTS_PROXY_ADMISSION_TLS_DIR"] = "/etc/proxy/webhook-tls",
                ["REQUESTS_PROXY_ADMISSION_JOBS_MANAGER_USER"] = "system:serviceaccount:jobs:rel-jobs-manager",
                ["REQUESTS_PROXY_ADMISSION_STORE_CONFIGMAPS"] = string.Join(",", [.. Enumerable.Range(0, 16).Select(i => i == 0 ? "rel-requests-proxy-revoked" : $"rel-requests-proxy-revoked-{i}"), "rel-jobs-manager-state", "rel-requests-proxy-legacy-tokens"]),
                ["REQUESTS_PROXY_ADMISSION_JOB_CONTROLLER_USERS"] = "system:serviceaccount:kube-system:job-controller,system:kube-controller-manager",
            },
            chart.Env(Proxy));
        Assert.True(chart.Container(Proxy)["volumeMounts"]!.AsArray().All(m => m!["readOnly"]?.GetValue<bool>() == true || m.Str("mountPath") == "/tmp"));
    }

    [Theory]
    [InlineData("requestsProxy.acceptBearerAdminToken=false", "false")]
    [InlineData("requestsProxy.statelessTokens=true", null)]
    [InlineData("requestsProxy.statelessTokens=true,requestsProxy.acceptBearerAdminToken=true", null)]
    public async Task Template_BearerAdminCompatibility_ClosedByItsValue_AndNeverInStatelessMode(string set, string? expected)
    {
        var chart = await _helm.TemplateAsync([set]);

        // A stateless proxy holds no admin token at all, so it has no compatibility path to open.
        Assert.Equal(expected, chart.Env(Proxy).GetValueOrDefault("REQUESTS_PROXY_ADMIN_ACCEPT_BEARER"));
    }

    [Fact]
    public async Task Template_Default_JobsManagerMountsAndEnv()
    {
        var chart = await _helm.TemplateAsync();

        Assert.Equal(
            new Dictionary<string, (string, string?)>
            {
                ["/etc/proxy/keys/"] = ("secret", "rel-requests-proxy-keys"),
                ["/etc/proxy/admin/"] = ("secret", "rel-requests-proxy-admin"),
                ["/tmp"] = ("emptyDir", null),
            },
            chart.Mounts(JobsManager));
        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["ASPNETCORE_URLS"] = "http://0.0.0.0:8080",
                ["JOBS_MANAGER_RUNTIME"] = "kubernetes",
                ["REQUESTS_PROXY_STATELESS"] = "false",
                ["RELEASE_NAME"] = "rel",
                ["NAMESPACE"] = HelmChart.Namespace,
                ["JOBS_MANAGER_JOB_NAMESPACES"] = HelmChart.Namespace + "-jobs",
                ["REQUESTS_PROXY_KEYS_DIR"] = "/etc/proxy/keys",
                ["REQUESTS_PROXY_TOKEN_TTL_SECONDS"] = "7776000",
                ["REQUESTS_PROXY_ADMIN_TOKEN_FILE"] = "/etc/proxy/admin/token",
                ["REQUESTS_PROXY_URL"] = "http://rel-requests-proxy.jobs.svc:8888",
                ["REQUESTS_PROXY_PODS_DNS"] = "rel-requests-proxy-pods.jobs.svc",
                ["REQUESTS_PROXY_LEGACY_PODS_DNS"] = "rel-requests-proxy-legacy-pods.jobs.svc",
                ["REQUESTS_PROXY_PODS_PORT"] = "8888",
                ["REVOKED_CONFIGMAP_NAME"] = "rel-requests-proxy-revoked",
                ["REVOKED_CONFIGMAP_SHARDS"] = "16",
                ["JOBS_MANAGER_ALLOW_RUN_AS_ROOT"] = "false",
                ["JOBS_MANAGER_ALLOW_WRITABLE_ROOT_FILESYSTEM"] = "false",
                ["JOBS_MANAGER_ALLOWED_CAPABILITIES"] = "",
                ["JOBS_MANAGER_ALLOWED_SYSCTLS"] = "",
                ["JOBS_MANAGER_ALLOW_TOLERATE_ALL"] = "false",
                ["JOBS_MANAGER_ALLOW_CONTROL_PLANE_NODES"] = "false",
                ["JOBS_MANAGER_ADOPT"] = "false",
                ["JOBS_MANAGER_STATE_CONFIGMAP_NAME"] = "rel-jobs-manager-state",
                ["LEGACY_TOKENS_CONFIGMAP_NAME"] = "rel-requests-proxy-legacy-tokens",
                ["JOBS_MANAGER_LEGACY_TOKEN_GRACE_SECONDS"] = "300",
            },
            chart.Env(JobsManager));
        Assert.Equal("true", chart.PodSpec(JobsManager).Str("automountServiceAccountToken"));
        Assert.Equal(JobsManager, chart.PodSpec(JobsManager).Str("serviceAccountName"));
    }

    [Fact]
    public async Task Template_PodPolicySysctls_ReachTheJobsManagerCommaSeparated()
    {
        var chart = await _helm.TemplateAsync(["jobsManager.podPolicy.allowedSysctls={kernel.msgmax,net.core.*}"]);

        Assert.Equal("kernel.msgmax,net.core.*", chart.Env(JobsManager)["JOBS_MANAGER_ALLOWED_SYSCTLS"]);
    }

    [Theory]
    [InlineData("allowTolerateAll", "JOBS_MANAGER_ALLOW_TOLERATE_ALL", "JOBS_MANAGER_ALLOW_CONTROL_PLANE_NODES")]
    [InlineData("allowControlPlaneNodes", "JOBS_MANAGER_ALLOW_CONTROL_PLANE_NODES", "JOBS_MANAGER_ALLOW_TOLERATE_ALL")]
    public async Task Template_SchedulingPolicyFlag_ReachesTheJobsManagerAlone(string value, string variable, string other)
    {
        var chart = await _helm.TemplateAsync([$"jobsManager.podPolicy.{value}=true"]);

        Assert.Equal("true", chart.Env(JobsManager)[variable]);
        Assert.Equal("false", chart.Env(JobsManager)[other]);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task Template_StatelessFlag_ReachesBothServices(string flag)
    {
        var chart = await _helm.TemplateAsync([$"requestsProxy.statelessTokens={flag}"]);

        Assert.Equal(flag, chart.Env(Proxy)["REQUESTS_PROXY_STATELESS"]);
        Assert.Equal(flag, chart.Env(JobsManager)["REQUESTS_PROXY_STATELESS"]);
    }

    [Theory]
    [InlineData("requestsProxy:\n  tokenTtlSeconds: 3600\n", "3600")]
    [InlineData("requestsProxy:\n  tokenTtlSeconds: 31536000000\n", "31536000000")]
    public async Task Template_TokenTtl_PassedThroughAsExactDigits(string values, string expected)
    {
        var chart = await _helm.TemplateAsync(valuesYaml: values);

        Assert.Equal(expected, chart.Env(JobsManager)["REQUESTS_PROXY_TOKEN_TTL_SECONDS"]);
    }

    [Fact]
    public async Task Template_AnyValues_NoSubPathMounts()
    {
        var chart = await _helm.TemplateAsync(
            ["requestsProxy.upstream.url=https://edge.example", "requestsProxy.upstream.credential.existingSecret=edge"],
            "requestsProxy:\n  routes:\n    - name: results\n      path: /v1/results\n      requiredScope: results:write\n");

        Assert.DoesNotContain(chart.Objects, o => o.FindAll("subPath").Any() || o.FindAll("subPathExpr").Any());
    }

    [Theory]
    [InlineData(Proxy)]
    [InlineData(JobsManager)]
    public async Task Template_Default_HardenedAndProbed(string deployment)
    {
        var chart = await _helm.TemplateAsync();

        var pod = chart.PodSpec(deployment);
        Assert.Equal("true", pod.Str("securityContext", "runAsNonRoot"));
        Assert.Equal("RuntimeDefault", pod.Str("securityContext", "seccompProfile", "type"));
        var container = chart.Container(deployment);
        var security = (JsonObject)container["securityContext"]!;
        Assert.Equal("true", security.Str("runAsNonRoot"));
        Assert.Equal("true", security.Str("readOnlyRootFilesystem"));
        Assert.Equal("false", security.Str("allowPrivilegeEscalation"));
        Assert.Equal("false", security.Str("privileged"));
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Null(security["capabilities"]!["add"]);
        Assert.Equal("RuntimeDefault", security.Str("seccompProfile", "type"));
        Assert.Equal("/healthz", container.Str("livenessProbe", "httpGet", "path"));
        Assert.Equal("/readyz", container.Str("readinessProbe", "httpGet", "path"));
        // The proxy's probes use its management port (the pod-facing port answers 404 there).
        var probePort = deployment == Proxy ? "management" : "http";
        Assert.Equal(probePort, container.Str("readinessProbe", "httpGet", "port"));
        Assert.Equal(probePort, container.Str("livenessProbe", "httpGet", "port"));
        Assert.NotNull(container["resources"]!["requests"]);
    }

    [Theory]
    [InlineData("true", null, 2)]
    [InlineData("true", 5, 5)]
    [InlineData("false", null, 2)]
    [InlineData("false", 5, 5)]
    public async Task Template_Replicas_TwoByDefaultInBothModes(string stateless, int? replicas, long expected)
    {
        List<string> sets = [$"requestsProxy.statelessTokens={stateless}"];
        if (replicas is { } count)
        {
            sets.Add($"requestsProxy.replicas={count}");
        }

        var chart = await _helm.TemplateAsync(sets);

        Assert.Equal(expected, chart.Get("Deployment", Proxy)["spec"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public async Task Template_Legacy_HeadlessServiceNamesEveryProxyPodForRegistration()
    {
        var chart = await _helm.TemplateAsync();

        var pods = chart.Get("Service", Proxy + "-pods");
        Assert.Equal("None", pods["spec"]!.Str("clusterIP"));
        Assert.True(pods["spec"]!["publishNotReadyAddresses"]!.GetValue<bool>());
        Assert.Equal(chart.Get("Deployment", Proxy)["spec"]!["selector"]!["matchLabels"]!.ToJsonString(), pods["spec"]!["selector"]!.ToJsonString());
        var containerPort = chart.Container(Proxy)["ports"]![0]!["containerPort"]!.GetValue<long>();
        Assert.Equal(containerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), chart.Env(JobsManager)["REQUESTS_PROXY_PODS_PORT"]);
        Assert.Equal($"{Proxy}-pods.{HelmChart.Namespace}.svc", chart.Env(JobsManager)["REQUESTS_PROXY_PODS_DNS"]);
    }

    [Fact]
    public async Task Template_Stateless_ProxyHoldsNoAdminToken()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.statelessTokens=true"]);

        Assert.DoesNotContain("/etc/proxy/admin/", chart.Mounts(Proxy).Keys);
        Assert.DoesNotContain("REQUESTS_PROXY_ADMIN_TOKEN_FILE", chart.Env(Proxy).Keys);
        Assert.DoesNotContain("admin", chart.PodSpec(Proxy)["volumes"]!.AsArray().Select(v => v!.Str("name")));
        Assert.Contains("/etc/proxy/admin/", chart.Mounts(JobsManager).Keys);
    }

    [Fact]
    public async Task Template_Stateless_ProxyHasTwoReplicasPdbServiceAndNoApiToken()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.statelessTokens=true"]);

        var deployment = chart.Get("Deployment", Proxy);
        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<long>());
        Assert.Equal("false", chart.PodSpec(Proxy).Str("automountServiceAccountToken"));
        Assert.Equal(8888, chart.Container(Proxy)["ports"]![0]!["containerPort"]!.GetValue<long>());
        var selector = deployment["spec"]!["selector"]!["matchLabels"]!.ToJsonString();
        var pdb = chart.Get("PodDisruptionBudget", Proxy);
        Assert.Equal(selector, pdb["spec"]!["selector"]!["matchLabels"]!.ToJsonString());
        Assert.Equal(1, pdb["spec"]!["maxUnavailable"]!.GetValue<long>());
        var service = chart.Get("Service", Proxy);
        Assert.Equal(selector, service["spec"]!["selector"]!.ToJsonString());
        Assert.Equal(8888, service["spec"]!["ports"]![0]!["port"]!.GetValue<long>());
        Assert.Equal(8080, chart.Get("Service", JobsManager)["spec"]!["ports"]![0]!["port"]!.GetValue<long>());
        var podLabels = (JsonObject)deployment["spec"]!["template"]!["metadata"]!["labels"]!;
        Assert.All(((JsonObject)deployment["spec"]!["selector"]!["matchLabels"]!).Select(p => p.Key), key => Assert.True(podLabels.ContainsKey(key)));
    }

    [Fact]
    public async Task Template_PdbDisabledAndImagesOverridden_Honoured()
    {
        var chart = await _helm.TemplateAsync([
            "requestsProxy.podDisruptionBudget.enabled=false",
            "requestsProxy.image.registry=registry.example:5000",
            "requestsProxy.image.tag=1.2.3",
            "jobsManager.image.digest=sha256:" + new string('a', 64),
        ]);

        Assert.Null(chart.Find("PodDisruptionBudget", Proxy));
        Assert.Equal("registry.example:5000/requests-proxy:1.2.3", chart.Container(Proxy).Str("image"));
        Assert.Equal("jobs-manager@sha256:" + new string('a', 64), chart.Container(JobsManager).Str("image"));
    }
}
