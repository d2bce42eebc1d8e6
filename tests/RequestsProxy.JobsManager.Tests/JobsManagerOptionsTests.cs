using Microsoft.Extensions.Configuration;
using RequestsProxy.Settings;

namespace RequestsProxy.JobsManager.Tests;

public sealed class JobsManagerOptionsTests
{
    private static JobsManagerOptions Read(params (string Key, string Value)[] values) =>
        JobsManagerOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    [Fact]
    public void FromConfiguration_Empty_DocumentedDefaults()
    {
        var options = Read();

        Assert.Equal(JobRuntimeKind.Local, options.Runtime);
        Assert.True(options.Stateless);
        Assert.Equal("/etc/proxy/keys", options.KeysDirectory);
        Assert.Equal(TimeSpan.FromSeconds(7_776_000), options.TokenLifetime);
        Assert.Equal("/etc/proxy/admin/token", options.AdminTokenFile);
        Assert.Equal(TimeSpan.FromSeconds(60), options.RefreshCheckInterval);
        Assert.Equal(Path.Combine(options.StateDirectory, "revoked"), options.RevokedDirectory);
    }

    [Fact]
    public void FromConfiguration_RelativeStateDirectory_ResolvedAgainstTheWorkingFolderAtStart()
    {
        var options = Read(("JOBS_MANAGER_STATE_DIR", "jm-state"), ("REQUESTS_PROXY_REVOKED_DIR", "jm-revoked"));

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "jm-state"), options.StateDirectory);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "jm-revoked"), options.RevokedDirectory);
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "jm-state", "revoked"), Read(("JOBS_MANAGER_STATE_DIR", "jm-state")).RevokedDirectory);
    }

    [Fact]
    public void FromConfiguration_ChartEnvironment_DerivedNames()
    {
        var options = Read(("JOBS_MANAGER_RUNTIME", "kubernetes"), ("RELEASE_NAME", "rel"), ("NAMESPACE", "ml"), ("REQUESTS_PROXY_TOKEN_TTL_SECONDS", "3600"), ("REQUESTS_PROXY_STATELESS", "false"));

        Assert.Equal(JobRuntimeKind.Kubernetes, options.Runtime);
        Assert.False(options.Stateless);
        Assert.Equal("rel-requests-proxy-revoked", options.RevokedConfigMapName);
        Assert.Equal("rel-jobs-manager-state", options.StateConfigMapName);
        Assert.Equal("my-ledger", Read(("RELEASE_NAME", "rel"), ("JOBS_MANAGER_STATE_CONFIGMAP_NAME", "my-ledger")).StateConfigMapName);
        Assert.Equal(new Uri("http://rel-requests-proxy.ml.svc:8888"), options.ProxyUrl);
        Assert.Equal(TimeSpan.FromHours(1), options.TokenLifetime);
        Assert.Equal(TimeSpan.FromSeconds(60), options.RefreshCheckInterval);
    }

    [Fact]
    public void FromConfiguration_ShortTtl_ChecksWellInsideHalfALifetime()
    {
        var options = Read(("REQUESTS_PROXY_TOKEN_TTL_SECONDS", "30"));

        Assert.Equal(TimeSpan.FromSeconds(3), options.RefreshCheckInterval);
    }

    [Fact]
    public void FromConfiguration_Invalid_EveryProblemReportedAtOnce()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => Read(("JOBS_MANAGER_RUNTIME", "docker"), ("REQUESTS_PROXY_TOKEN_TTL_SECONDS", "-5"), ("REQUESTS_PROXY_URL", "not a url")));

        Assert.Contains("JOBS_MANAGER_RUNTIME", e.Message, StringComparison.Ordinal);
        Assert.Contains("REQUESTS_PROXY_TOKEN_TTL_SECONDS", e.Message, StringComparison.Ordinal);
        Assert.Contains("REQUESTS_PROXY_URL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_KubernetesWithoutNamespace_Refused()
    {
        Assert.Throws<InvalidSettingsException>(() => Read(("JOBS_MANAGER_RUNTIME", "kubernetes")));
    }

    [Fact]
    public void FromConfiguration_RevocationShards_ReadAndBounded()
    {
        Assert.Equal(1, Read().RevocationShards);
        Assert.Equal(16, Read(("REVOKED_CONFIGMAP_SHARDS", "16")).RevocationShards);
        var tooMany = Assert.ThrowsAny<Exception>(() => Read(("REVOKED_CONFIGMAP_SHARDS", "65")));
        Assert.Contains("REVOKED_CONFIGMAP_SHARDS", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("REVOKED_CONFIGMAP_SHARDS", Assert.ThrowsAny<Exception>(() => Read(("REVOKED_CONFIGMAP_SHARDS", "many"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_Adopt_OffByDefaultKubernetesOnly()
    {
        Assert.False(Read().Adopt);
        var adopt = Read(("JOBS_MANAGER_ADOPT", "true"), ("JOBS_MANAGER_RUNTIME", "kubernetes"), ("NAMESPACE", "ml"));
        Assert.True(adopt.Adopt);
        Assert.Equal(["ml"], adopt.AdoptionNamespaces);
        var local = Assert.ThrowsAny<Exception>(() => Read(("JOBS_MANAGER_ADOPT", "true")));
        Assert.Contains("JOBS_MANAGER_RUNTIME=kubernetes", local.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_SchedulingPolicy_RefusedByDefault_EachFlagReadOnItsOwn()
    {
        Assert.Equal((false, false), (Read().PodPolicy.AllowTolerateAll, Read().PodPolicy.AllowControlPlaneNodes));
        var tolerate = Read(("JOBS_MANAGER_ALLOW_TOLERATE_ALL", "true")).PodPolicy;
        Assert.Equal((true, false), (tolerate.AllowTolerateAll, tolerate.AllowControlPlaneNodes));
        var controlPlane = Read(("JOBS_MANAGER_ALLOW_CONTROL_PLANE_NODES", "true")).PodPolicy;
        Assert.Equal((false, true), (controlPlane.AllowTolerateAll, controlPlane.AllowControlPlaneNodes));
        var bad = Assert.ThrowsAny<Exception>(() => Read(("JOBS_MANAGER_ALLOW_TOLERATE_ALL", "yes please")));
        Assert.Contains("JOBS_MANAGER_ALLOW_TOLERATE_ALL", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_AllowedSysctls_NamesAndPrefixesRead_OthersRefused()
    {
        Assert.Empty(Read().PodPolicy.Sysctls);
        Assert.Equal(["kernel.msgmax", "net.core.*"], Read(("JOBS_MANAGER_ALLOWED_SYSCTLS", "kernel.msgmax, net.core.*")).PodPolicy.Sysctls);
        var bad = Assert.ThrowsAny<Exception>(() => Read(("JOBS_MANAGER_ALLOWED_SYSCTLS", "net.*.somaxconn")));
        Assert.Contains("'net.*.somaxconn' in JOBS_MANAGER_ALLOWED_SYSCTLS is not a sysctl name or a prefix ending in '*'", bad.Message, StringComparison.Ordinal);
    }
}
