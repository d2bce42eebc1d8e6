using System.Text;

namespace RequestsProxy.Chart.Tests;

public sealed class KeyRingTests : IDisposable
{
    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_FirstInstall_KeysSecretHasActiveV1AndA64CharacterKey()
    {
        var chart = await _helm.TemplateAsync();

        var keys = chart.Get("Secret", "rel-requests-proxy-keys");
        Assert.Equal(HelmChart.Namespace, keys.Str("metadata", "namespace"));
        Assert.Equal(["active", "v1"], keys["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("v1", Decode(keys.Str("data", "active")));
        Assert.Matches("^[A-Za-z0-9]{64}$", Decode(keys.Str("data", "v1")));
        Assert.Equal("keep", keys.Str("metadata", "annotations", "helm.sh/resource-policy"));
    }

    [Fact]
    public async Task Template_FirstInstall_NoConfigMapOfLiveData_TheJobsManagerCreatesThem()
    {
        // Rendered data would be re-applied by helm rollback and reset by helm template (GitOps): docs/operations.md#upgrade.
        var chart = await _helm.TemplateAsync();

        Assert.DoesNotContain(chart.OfKind("ConfigMap"), c => c.Str("metadata", "labels", "app.kubernetes.io/component") is "revocations" or "jobs-manager-state" or "legacy-tokens");
        Assert.Null(chart.Find("ConfigMap", "rel-requests-proxy-revoked"));
        Assert.Null(chart.Find("ConfigMap", "rel-jobs-manager-state"));
        Assert.Null(chart.Find("ConfigMap", "rel-requests-proxy-legacy-tokens"));
        Assert.DoesNotContain("lookup \"v1\" \"ConfigMap\"", string.Concat(Directory.EnumerateFiles(HelmChart.ChartPath, "*.yaml", SearchOption.AllDirectories).Select(File.ReadAllText)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_FirstInstall_AdminTokenGenerated()
    {
        var chart = await _helm.TemplateAsync();

        var admin = chart.Get("Secret", "rel-requests-proxy-admin");
        Assert.Matches("^[A-Za-z0-9]{48}$", Decode(admin.Str("data", "token")));
    }

    [Fact]
    public async Task Template_ExistingSecret_NoKeysSecretAndBothPodsMountTheNamedOne()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.keys.existingSecret=gitops-keys"]);

        Assert.Null(chart.Find("Secret", "rel-requests-proxy-keys"));
        Assert.Equal(("secret", "gitops-keys"), chart.Mounts("rel-requests-proxy")["/etc/proxy/keys/"]);
        Assert.Equal(("secret", "gitops-keys"), chart.Mounts("rel-jobs-manager")["/etc/proxy/keys/"]);
        var rule = chart.Get("Role", "rel-jobs-manager")["rules"]!.AsArray().Single(r => r!["resourceNames"] is not null && r["resources"]![0]!.GetValue<string>() == "secrets");
        Assert.Equal("gitops-keys", rule!["resourceNames"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Template_ExistingConfigMapAndAdminSecret_NotRenderedAndReferencedEverywhere()
    {
        var chart = await _helm.TemplateAsync(["requestsProxy.revoked.existingConfigMap=gitops-revoked", "requestsProxy.revoked.shards=1", "adminToken.existingSecret=gitops-admin"]);

        Assert.Null(chart.Find("ConfigMap", "rel-requests-proxy-revoked"));
        Assert.Null(chart.Find("Secret", "rel-requests-proxy-admin"));
        Assert.Equal(("configMap", "gitops-revoked"), chart.Mounts("rel-requests-proxy")["/etc/proxy/revoked/"]);
        Assert.Equal("gitops-revoked", chart.Env("rel-jobs-manager")["REVOKED_CONFIGMAP_NAME"]);
        Assert.Equal(("secret", "gitops-admin"), chart.Mounts("rel-jobs-manager")["/etc/proxy/admin/"]);
        Assert.Equal(("secret", "gitops-admin"), chart.Mounts("rel-requests-proxy")["/etc/proxy/admin/"]);
        var rules = chart.Get("Role", "rel-jobs-manager")["rules"]!.AsArray().Where(r => r!["resources"]![0]!.GetValue<string>() == "configmaps" && r["resourceNames"] is not null).ToList();
        Assert.Equal(["gitops-revoked", "rel-jobs-manager-state", "rel-requests-proxy-legacy-tokens"], rules.Select(r => r!["resourceNames"]![0]!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    private static string Decode(string? base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64!));
}
