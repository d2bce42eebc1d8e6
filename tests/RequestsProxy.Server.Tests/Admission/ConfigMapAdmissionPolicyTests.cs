using System.Text.Json.Nodes;
using RequestsProxy.Server.Admission;
using static RequestsProxy.Server.Tests.Admission.WorkloadReviews;

namespace RequestsProxy.Server.Tests.Admission;

public sealed class ConfigMapAdmissionPolicyTests
{
    private static readonly string[] Stores = ["rp-requests-proxy-revoked", "rp-requests-proxy-revoked-1", "rp-jobs-manager-state", "rp-requests-proxy-legacy-tokens"];
    private static readonly ConfigMapAdmissionPolicy Policy = new(SecretAdmissionPolicyTests.JobsManager, "ml", Stores);

    private static AdmissionDecision Create(string name, string ns = "ml", string user = SecretAdmissionPolicyTests.JobsManager, string operation = "CREATE") =>
        Policy.Decide(Review("", "configmaps", operation, user, new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } }, ns: ns));

    [Theory]
    [InlineData("rp-requests-proxy-revoked")]
    [InlineData("rp-requests-proxy-revoked-1")]
    [InlineData("rp-jobs-manager-state")]
    [InlineData("rp-requests-proxy-legacy-tokens")]
    public void Decide_AStoreConfigMap_Allowed(string name)
    {
        var decision = Create(name);

        Assert.True(decision.Allowed, decision.Message);
        Assert.Equal(ConfigMapAdmissionPolicy.CreateRule, decision.Rule);
    }

    [Theory]
    [InlineData("rp-requests-proxy-revoked-2", "ml")]
    [InlineData("kube-root-ca.crt", "ml")]
    [InlineData("rp-requests-proxy-routes", "ml")]
    [InlineData("rp-jobs-manager-state", "ml-jobs")]
    public void Decide_AnyOtherConfigMap_DeniedNamingTheName(string name, string ns) =>
        AssertDenied(Create(name, ns), ConfigMapAdmissionPolicy.CreateRule, $"'metadata.name' of ConfigMap {ns}/{name} is none of them", "rp-jobs-manager-state");

    [Fact]
    public void Decide_AnotherUser_NotJudged() =>
        Assert.True(Create("anything", user: "kubernetes-admin").Allowed);

    [Fact]
    public void Decide_Update_NotJudged() =>
        Assert.True(Create("anything", operation: "UPDATE").Allowed);
}
