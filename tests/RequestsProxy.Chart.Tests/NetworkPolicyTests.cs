namespace RequestsProxy.Chart.Tests;

public sealed class NetworkPolicyTests : IDisposable
{
    private const string Name = "rel-requests-proxy-training-jobs";

    private readonly HelmChart _helm = new();

    public void Dispose() => _helm.Dispose();

    [Fact]
    public async Task Template_Default_EveryPodOfTheJobNamespaceMayReachOnlyTheProxyAndDnsAndNothingIn()
    {
        var chart = await _helm.TemplateAsync();

        var policy = Assert.Single(chart.OfKind("NetworkPolicy"));
        Assert.Equal(Name, policy.Str("metadata", "name"));
        Assert.Equal(HelmChart.Namespace + "-jobs", policy.Str("metadata", "namespace"));
        Assert.Equal("{}", policy["spec"]!["podSelector"]!.ToJsonString());
        Assert.Equal(["Ingress", "Egress"], policy["spec"]!["policyTypes"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Empty(policy["spec"]!["ingress"]!.AsArray());
        var egress = policy["spec"]!["egress"]!.AsArray();
        Assert.Equal(2, egress.Count);
        var toProxy = egress[0]!;
        var proxyLabels = chart.Get("Deployment", "rel-requests-proxy")["spec"]!["selector"]!["matchLabels"]!.ToJsonString();
        Assert.Equal(proxyLabels, toProxy["to"]![0]!["podSelector"]!["matchLabels"]!.ToJsonString());
        Assert.Equal(HelmChart.Namespace, toProxy["to"]![0]!.Str("namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
        Assert.Equal(8888, toProxy["ports"]![0]!["port"]!.GetValue<long>());
        var dns = egress[1]!;
        Assert.Equal("kube-dns", dns["to"]![0]!.Str("podSelector", "matchLabels", "k8s-app"));
        Assert.Equal("kube-system", dns["to"]![0]!.Str("namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"));
        Assert.All(dns["ports"]!.AsArray(), p => Assert.Equal(53, p!["port"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Template_TwoJobNamespaces_OnePolicyInEach()
    {
        var chart = await _helm.TemplateAsync(["jobNamespaces.names={team-a,team-b}"]);

        Assert.Equal(["team-a", "team-b"], chart.OfKind("NetworkPolicy").Select(p => p.Str("metadata", "namespace")));
    }

    [Fact]
    public async Task Template_WithinJobNamespaceAllowed_PodsOfTheNamespaceReachEachOther()
    {
        var chart = await _helm.TemplateAsync(["networkPolicy.allowWithinJobNamespace=true"]);

        var spec = Assert.Single(chart.OfKind("NetworkPolicy"))["spec"]!;
        Assert.Equal("""[{"from":[{"podSelector":{}}]}]""", spec["ingress"]!.ToJsonString());
        Assert.Contains(spec["egress"]!.AsArray(), e => e!.ToJsonString() == """{"to":[{"podSelector":{}}]}""");
    }

    [Fact]
    public async Task Template_DnsOff_OnlyTheProxy()
    {
        var chart = await _helm.TemplateAsync(["networkPolicy.allowDns=false"]);

        Assert.Single(chart.Get("NetworkPolicy", Name)["spec"]!["egress"]!.AsArray());
    }

    [Fact]
    public async Task Template_Disabled_NoPolicy()
    {
        var chart = await _helm.TemplateAsync(["networkPolicy.enabled=false"]);

        Assert.Empty(chart.OfKind("NetworkPolicy"));
    }
}
