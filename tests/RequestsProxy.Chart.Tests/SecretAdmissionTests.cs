using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using RequestsProxy.Testing.FakeKubernetes;

namespace RequestsProxy.Chart.Tests;

/// <summary>
/// The jobs-manager's Secret writes in the job namespaces, confined beyond RBAC: the
/// ValidatingAdmissionPolicy where the cluster has it (1.30+), else the proxy pods' webhook —
/// chosen from the capabilities helm renders with (<c>--kube-version</c>, <c>--api-versions</c>).
/// </summary>
public sealed class SecretAdmissionTests : IAsyncLifetime, IDisposable
{
    private const string Configuration = "jobs-rel-jobs-manager-secrets";
    private const string Service = "rel-requests-proxy-webhook";
    private const string TlsSecret = "rel-requests-proxy-webhook-tls";
    private const string Proxy = "rel-requests-proxy";
    private const string JobsManagerUser = "system:serviceaccount:jobs:rel-jobs-manager";

    private static readonly string[] Kube120 = ["--kube-version", "1.20.2"];
    private static readonly string[] Kube130 = ["--kube-version", "1.30.0", "--api-versions", "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy"];

    private readonly HelmChart _helm = new();
    private FakeKubernetesApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeKubernetesApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Kubernetes120_WebhookWithTheTwoRulesServedByTheProxy()
    {
        var chart = await _helm.TemplateAsync(["jobNamespaces.names={team-a,team-b}"], null, Kube120);

        Assert.Empty(chart.OfKind("ValidatingAdmissionPolicy"));
        var configuration = chart.Get("ValidatingWebhookConfiguration", Configuration);
        var webhook = Assert.Single(configuration["webhooks"]!.AsArray())!;
        Assert.Equal("secrets.jobs-manager.requests-proxy.io", webhook.Str("name"));
        Assert.Equal(("Fail", "None", 5L), (webhook.Str("failurePolicy"), webhook.Str("sideEffects"), webhook["timeoutSeconds"]!.GetValue<long>()));
        Assert.Equal(["v1"], Strings(webhook["admissionReviewVersions"]));
        var rule = Assert.Single(webhook["rules"]!.AsArray())!;
        Assert.Equal(["CREATE", "UPDATE"], Strings(rule["operations"]));
        Assert.Equal([""], Strings(rule["apiGroups"]));
        Assert.Equal(["v1"], Strings(rule["apiVersions"]));
        Assert.Equal(["secrets"], Strings(rule["resources"]));
        Assert.Equal("Namespaced", rule.Str("scope"));
        Assert.Equal(("jobs", Service, 443L, "/admission/v1/secrets"),
            (webhook.Str("clientConfig", "service", "namespace"), webhook.Str("clientConfig", "service", "name"), webhook["clientConfig"]!["service"]!["port"]!.GetValue<long>(), webhook.Str("clientConfig", "service", "path")));
        // 1.20 has no kubernetes.io/metadata.name label and no matchConditions.
        Assert.Equal("""{"matchLabels":{"jobs.jobs.requests-proxy.io/rel":"true"}}""", webhook["namespaceSelector"]!.ToJsonString());
        Assert.Equal("""{"matchExpressions":[{"key":"app.kubernetes.io/managed-by","operator":"NotIn","values":["requests-proxy-jobs-manager"]}]}""", webhook["objectSelector"]!.ToJsonString());
        Assert.Null(webhook["matchConditions"]);

        // The namespaces it selects carry the label.
        Assert.All(chart.OfKind("Namespace"), ns => Assert.Equal("true", ns.Str("metadata", "labels", "jobs.jobs.requests-proxy.io/rel")));
        Assert.Equal(["team-a", "team-b"], chart.OfKind("Namespace").Select(ns => ns.Str("metadata", "name")));

        // Served by the proxy pods (never the jobs-manager) through a Service of its own.
        var service = chart.Get("Service", Service);
        Assert.Equal(chart.Get("Deployment", Proxy)["spec"]!["selector"]!["matchLabels"]!.ToJsonString(), service["spec"]!["selector"]!.ToJsonString());
        var port = Assert.Single(service["spec"]!["ports"]!.AsArray())!;
        Assert.Equal((443L, "webhook"), (port["port"]!.GetValue<long>(), port.Str("targetPort")));
        var containerPort = chart.Container(Proxy)["ports"]!.AsArray().Single(p => p!.Str("name") == "webhook")!;
        Assert.Equal(9443L, containerPort["containerPort"]!.GetValue<long>());
        var env = chart.Env(Proxy);
        Assert.Equal(("https://0.0.0.0:9443", "/etc/proxy/webhook-tls", JobsManagerUser),
            (env["REQUESTS_PROXY_ADMISSION_URLS"], env["REQUESTS_PROXY_ADMISSION_TLS_DIR"], env["REQUESTS_PROXY_ADMISSION_JOBS_MANAGER_USER"]));
        Assert.Equal(("secret", TlsSecret), chart.Mounts(Proxy)["/etc/proxy/webhook-tls/"]);
        Assert.DoesNotContain(chart.Container("rel-jobs-manager")["ports"]!.AsArray(), p => p!.Str("name") == "webhook");
        Assert.DoesNotContain("REQUESTS_PROXY_ADMISSION_URLS", chart.Env("rel-jobs-manager").Keys);
    }

    [Fact]
    public async Task Template_Generated_CaBundleIssuedTheServingCertificateForTheServiceName()
    {
        var chart = await _helm.TemplateAsync(extra: Kube120);

        var secret = chart.Get("Secret", TlsSecret);
        Assert.Equal("kubernetes.io/tls", secret.Str("type"));
        var caBundle = Decode(chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]![0]!.Str("clientConfig", "caBundle"));
        Assert.Equal(Decode(secret.Str("data", "ca.crt")), caBundle);

        using var ca = X509Certificate2.CreateFromPem(caBundle);
        using var serving = X509Certificate2.CreateFromPem(Decode(secret.Str("data", "tls.crt")), Decode(secret.Str("data", "tls.key")));
        Assert.True(serving.HasPrivateKey);
        Assert.Contains($"{Service}.jobs.svc", DnsNames(serving));
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(serving), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(serving.NotAfter > DateTime.UtcNow.AddYears(9));
    }

    [Fact]
    public async Task Template_TwoRenders_EachMakesItsOwnPair()
    {
        // helm template (GitOps) cannot look up the Secret: each render is consistent in itself, and new (documented).
        var first = await _helm.TemplateAsync(extra: Kube120);
        var second = await _helm.TemplateAsync(extra: Kube120);

        Assert.NotEqual(first.Get("Secret", TlsSecret).Str("data", "tls.key"), second.Get("Secret", TlsSecret).Str("data", "tls.key"));
    }

    [Fact]
    public async Task Template_Kubernetes128_OnlyTheJobsManagersRequestsSent()
    {
        var chart = await _helm.TemplateAsync(extra: ["--kube-version", "1.28.3"]);

        var condition = Assert.Single(chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]![0]!["matchConditions"]!.AsArray())!;
        Assert.Equal($"request.userInfo.username == '{JobsManagerUser}'", condition.Str("expression"));
    }

    [Fact]
    public async Task Template_Kubernetes127_NoMatchConditions()
    {
        var chart = await _helm.TemplateAsync(extra: ["--kube-version", "1.27.9"]);

        Assert.Null(chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]![0]!["matchConditions"]);
    }

    [Fact]
    public async Task Template_Kubernetes130_PolicyAndNoWebhook()
    {
        var chart = await _helm.TemplateAsync(extra: Kube130);

        Assert.NotNull(chart.Find("ValidatingAdmissionPolicy", Configuration));
        Assert.NotNull(chart.Find("ValidatingAdmissionPolicyBinding", Configuration));
        AssertNoWebhook(chart);
    }

    [Fact]
    public async Task Template_WebhookForcedOnKubernetes130_WebhookAndNoPolicy()
    {
        var chart = await _helm.TemplateAsync(["secretAdmission.mode=webhook"], null, Kube130);

        Assert.Empty(chart.OfKind("ValidatingAdmissionPolicy"));
        Assert.NotNull(chart.Find("ValidatingWebhookConfiguration", Configuration));
    }

    [Fact]
    public async Task Template_PolicyForcedOnKubernetes120_PolicyAndNoWebhook()
    {
        var chart = await _helm.TemplateAsync(["secretAdmission.mode=policy"], null, Kube120);

        Assert.NotNull(chart.Find("ValidatingAdmissionPolicy", Configuration));
        AssertNoWebhook(chart);
    }

    [Fact]
    public async Task Template_None_NeitherButTheNamespacesStillLabelled()
    {
        var chart = await _helm.TemplateAsync(["secretAdmission.mode=none"], null, Kube130);

        Assert.Empty(chart.OfKind("ValidatingAdmissionPolicy"));
        AssertNoWebhook(chart);
        Assert.Equal("true", chart.OfKind("Namespace").Single().Str("metadata", "labels", "jobs.jobs.requests-proxy.io/rel"));
    }

    [Fact]
    public async Task Template_ExistingSecretWithCaBundle_NoSecretRenderedAndItsCaTrusted()
    {
        var ca = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
        var chart = await _helm.TemplateAsync(["secretAdmission.webhook.tls.existingSecret=webhook-cert", "secretAdmission.webhook.port=10443"],
            $"secretAdmission:\n  webhook:\n    tls:\n      caBundle: |\n        {ca.TrimEnd().Replace("\n", "\n        ", StringComparison.Ordinal)}\n", Kube120);

        Assert.Null(chart.Find("Secret", TlsSecret));
        Assert.Equal(ca, Decode(chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]![0]!.Str("clientConfig", "caBundle")));
        Assert.Equal(("secret", "webhook-cert"), chart.Mounts(Proxy)["/etc/proxy/webhook-tls/"]);
        Assert.Equal("https://0.0.0.0:10443", chart.Env(Proxy)["REQUESTS_PROXY_ADMISSION_URLS"]);
        Assert.Equal(10443L, chart.Container(Proxy)["ports"]!.AsArray().Single(p => p!.Str("name") == "webhook")!["containerPort"]!.GetValue<long>());
    }

    [Fact]
    public async Task Template_ExistingSecretWithoutCaBundle_RefusedWithTheReason()
    {
        var result = await _helm.TemplateRawAsync(["secretAdmission.webhook.tls.existingSecret=webhook-cert"], null, Kube120);

        Assert.False(result.Succeeded);
        Assert.Contains("set secretAdmission.webhook.tls.caBundle", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRunServer_ExistingPair_KeptAndTrusted()
    {
        // An upgrade: the pair the proxies serve stays, so the caBundle never changes under them.
        var data = new Dictionary<string, string> { ["ca.crt"] = "CA PEM", ["tls.crt"] = "CERT PEM", ["tls.key"] = "KEY PEM" };
        _server.SeedSecret(HelmChart.Namespace, TlsSecret, data, new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = "Helm" },
            new Dictionary<string, string> { ["meta.helm.sh/release-name"] = HelmChart.Release, ["meta.helm.sh/release-namespace"] = HelmChart.Namespace });

        var chart = await RenderAgainstServerAsync([]);

        var secret = chart.Get("Secret", TlsSecret);
        Assert.Equal(("CA PEM", "CERT PEM", "KEY PEM"), (Decode(secret.Str("data", "ca.crt")), Decode(secret.Str("data", "tls.crt")), Decode(secret.Str("data", "tls.key"))));
        Assert.Equal("CA PEM", Decode(chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]![0]!.Str("clientConfig", "caBundle")));
        Assert.Contains(_server.Requests, r => r is { Verb: "get", Resource: "secrets", Name: TlsSecret, StatusCode: 200 });
    }

    [Fact]
    public async Task DryRunServer_ExistingSecretOfTheOperator_CaReadFromIt()
    {
        _server.SeedSecret(HelmChart.Namespace, "webhook-cert", new Dictionary<string, string> { ["ca.crt"] = "OPERATOR CA", ["tls.crt"] = "c", ["tls.key"] = "k" });

        var chart = await RenderAgainstServerAsync(["secretAdmission.webhook.tls.existingSecret=webhook-cert"]);

        Assert.Null(chart.Find("Secret", TlsSecret));
        Assert.Equal("OPERATOR CA", Decode(chart.Get("ValidatingWebhookConfiguration", Configuration)["webhooks"]![0]!.Str("clientConfig", "caBundle")));
    }

    [Theory]
    [InlineData("secretAdmission.mode=always")]
    [InlineData("secretAdmission.webhook.timeoutSeconds=31")]
    [InlineData("secretAdmission.webhook.port=80")]
    [InlineData("secretAdmission.webhook.tls.validityDays=0")]
    [InlineData("secretAdmission.webhook.extra=1")]
    public async Task Template_BadValue_RefusedBySchema(string set)
    {
        var result = await _helm.TemplateRawAsync([set]);

        Assert.False(result.Succeeded);
        Assert.Contains("secretAdmission", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_Webhook_TrainingPodsCannotReachItsPort()
    {
        var chart = await _helm.TemplateAsync(["networkPolicy.allowWithinJobNamespace=true", "secretAdmission.webhook.port=9443"], null, Kube120);

        // Every egress rule of the job namespaces' policy that reaches the proxy pods names ports, and only 8888.
        var proxyLabels = chart.Get("Deployment", Proxy)["spec"]!["selector"]!["matchLabels"]!.ToJsonString();
        var policy = Assert.Single(chart.OfKind("NetworkPolicy"));
        var toProxy = policy["spec"]!["egress"]!.AsArray().Where(e => e!["to"]!.AsArray().Any(t => t!["podSelector"]?["matchLabels"]?.ToJsonString() == proxyLabels)).ToList();
        var rule = Assert.Single(toProxy)!;
        Assert.Equal([8888L], rule["ports"]!.AsArray().Select(p => p!["port"]!.GetValue<long>()));
        Assert.DoesNotContain(chart.Objects.Where(o => o.Str("kind") == "NetworkPolicy").SelectMany(o => o.FindAll("port")), p => p!.ToJsonString() is "9443" or "\"webhook\"");
        // The only other egress rules stay inside the job namespace (allowWithinJobNamespace) or go to DNS.
        Assert.All(policy["spec"]!["egress"]!.AsArray().Except(toProxy), e => Assert.True(
            e!["to"]!.AsArray().All(t => t!["namespaceSelector"] is null) || e["ports"]!.AsArray().All(p => p!["port"]!.GetValue<long>() == 53)));
    }

    [Fact]
    public async Task InstallDryRun_OwnJobNamespaces_NotesPrintTheLabelCommand()
    {
        var result = await _helm.RunAsync(["install", HelmChart.Release, HelmChart.ChartPath, "--namespace", HelmChart.Namespace, "--dry-run=client",
            "--set", "requestsProxy.upstream.url=" + HelmChart.Upstream, "--set", "jobNamespaces.create=false", "--set", "jobNamespaces.names={team-a,team-b}"]);

        Assert.True(result.Succeeded, result.StandardError);
        Assert.Contains("kubectl label namespace team-a jobs.jobs.requests-proxy.io/rel=true", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("kubectl label namespace team-b jobs.jobs.requests-proxy.io/rel=true", result.StandardOutput, StringComparison.Ordinal);
    }

    private static void AssertNoWebhook(RenderedChart chart)
    {
        Assert.Empty(chart.OfKind("ValidatingWebhookConfiguration"));
        Assert.Null(chart.Find("Service", Service));
        Assert.Null(chart.Find("Secret", TlsSecret));
        Assert.DoesNotContain(chart.Container(Proxy)["ports"]!.AsArray(), p => p!.Str("name") == "webhook");
        Assert.DoesNotContain("REQUESTS_PROXY_ADMISSION_URLS", chart.Env(Proxy).Keys);
        Assert.DoesNotContain("/etc/proxy/webhook-tls/", chart.Mounts(Proxy).Keys);
    }

    private async Task<RenderedChart> RenderAgainstServerAsync(string[] sets)
    {
        var kubeconfig = _server.WriteKubeconfig(Path.Combine(_helm.Home, "kube"), HelmChart.Namespace);
        var result = await _helm.TemplateRawAsync(sets, null, "--dry-run=server", "--disable-openapi-validation", "--kubeconfig", kubeconfig);
        Assert.True(result.Succeeded, $"helm failed ({result.ExitCode}): {result.StandardError}");
        Assert.Empty(_server.UnknownRequests);
        return new RenderedChart(result.StandardOutput, YamlJson.ParseDocuments(result.StandardOutput));
    }

    private static IEnumerable<string> DnsNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames());

    private static string[] Strings(JsonNode? array) => [.. array!.AsArray().Select(v => v!.GetValue<string>())];

    private static string Decode(string? base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64!));
}
