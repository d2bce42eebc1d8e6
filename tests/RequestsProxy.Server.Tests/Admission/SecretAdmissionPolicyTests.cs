using System.Text.Json;
using RequestsProxy.Server.Admission;

namespace RequestsProxy.Server.Tests.Admission;

/// <summary>Every allow and deny of the Secret admission rules, on the decision alone.</summary>
public sealed class SecretAdmissionPolicyTests
{
    internal const string JobsManager = "system:serviceaccount:ml:rp-jobs-manager";
    private const string Label = "\"labels\":{\"app.kubernetes.io/managed-by\":\"requests-proxy-jobs-manager\"}";

    private static readonly SecretAdmissionPolicy Policy = new(JobsManager);

    [Theory]
    [InlineData("CREATE")]
    [InlineData("UPDATE")]
    public void Decide_AnotherUser_AllowedUnjudged(string operation)
    {
        // The token controller filling default-token-*, an operator replacing a pull secret: not the webhook's business.
        var decision = Policy.Decide(Review(operation, "system:serviceaccount:kube-system:token-controller",
            @object: Secret("default-token-abcde", type: "kubernetes.io/service-account-token"), old: Secret("default-token-abcde", type: "kubernetes.io/service-account-token")));

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.NotTheJobsManager, decision.Rule);
    }

    [Theory]
    [InlineData("system:serviceaccount:ml:rp-jobs-manager-2")]
    [InlineData("system:serviceaccount:ml:RP-JOBS-MANAGER")]
    [InlineData("system:serviceaccount:ml:rp-jobs-manager ")]
    [InlineData("")]
    public void Decide_NameOnlyLikeTheJobsManager_IsAnotherUser(string user)
    {
        var decision = Policy.Decide(Review("CREATE", user, @object: Secret("x", type: "kubernetes.io/service-account-token")));

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.NotTheJobsManager, decision.Rule);
    }

    [Fact]
    public void Decide_NoUserName_IsAnotherUser()
    {
        var request = Review("CREATE", JobsManager, @object: Secret("x", type: "kubernetes.io/service-account-token")) with { UserInfo = new AdmissionUserInfo() };

        Assert.Equal(SecretAdmissionPolicy.NotTheJobsManager, Policy.Decide(request).Rule);
    }

    [Theory]
    [InlineData("Opaque")]
    [InlineData("")]
    [InlineData(null)]
    public void Decide_JobsManagerCreatesItsTokenSecret_Allowed(string? type)
    {
        var decision = Policy.Decide(Review("CREATE", JobsManager, @object: Secret("job-42-requests-proxy-token", type, labelled: true)));

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.CreateRule, decision.Rule);
    }

    [Fact]
    public void Decide_JobsManagerCreatesAnUnlabelledTokenSecret_DeniedNamingTheLabel()
    {
        var decision = Policy.Decide(Review("CREATE", JobsManager, @object: Secret("job-42-requests-proxy-token", "Opaque")));

        AssertDenied(decision, SecretAdmissionPolicy.CreateRule, "it is not labelled app.kubernetes.io/managed-by=requests-proxy-jobs-manager");
        Assert.DoesNotContain("its type", decision.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("its name", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_JobsManagerCreatesAServiceAccountTokenSecret_DeniedNamingEveryProblem()
    {
        var decision = Policy.Decide(Review("CREATE", JobsManager, @object: Secret("minted-default", "kubernetes.io/service-account-token", annotations: "\"kubernetes.io/service-account.name\":\"default\"")));

        AssertDenied(decision, SecretAdmissionPolicy.CreateRule, "its type is kubernetes.io/service-account-token");
        Assert.Contains("its name does not end in -requests-proxy-token", decision.Message, StringComparison.Ordinal);
        Assert.Contains("it is not labelled", decision.Message, StringComparison.Ordinal);
        Assert.Contains("Secret ml-jobs/minted-default", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_JobsManagerCreatesALabelledServiceAccountTokenSecret_DeniedForTheType()
    {
        var decision = Policy.Decide(Review("CREATE", JobsManager, @object: Secret("job-1-requests-proxy-token", "kubernetes.io/service-account-token", labelled: true)));

        AssertDenied(decision, SecretAdmissionPolicy.CreateRule, "its type is kubernetes.io/service-account-token");
    }

    [Theory]
    [InlineData("pull-secret")]
    [InlineData("-requests-proxy-token")]
    [InlineData("job-1-requests-proxy-token-2")]
    [InlineData("job-1-REQUESTS-PROXY-TOKEN")]
    public void Decide_JobsManagerCreatesAnotherName_Denied(string name)
    {
        var decision = Policy.Decide(Review("CREATE", JobsManager, @object: Secret(name, "Opaque", labelled: true)));

        AssertDenied(decision, SecretAdmissionPolicy.CreateRule, "its name does not end in -requests-proxy-token");
    }

    [Fact]
    public void Decide_ObjectWithoutName_JudgesTheRequestsName()
    {
        var request = Review("CREATE", JobsManager, @object: Json("{\"type\":\"Opaque\",\"metadata\":{" + Label + "}}")) with { Name = "job-9-requests-proxy-token" };

        Assert.True(Policy.Decide(request).Allowed);
    }

    [Theory]
    [InlineData("{\"app.kubernetes.io/managed-by\":\"Helm\"}")]
    [InlineData("{\"app.kubernetes.io/managed-by\":\"requests-proxy-jobs-manager \"}")]
    [InlineData("{\"app.kubernetes.io/managed-by\":true}")]
    [InlineData("{\"managed-by\":\"requests-proxy-jobs-manager\"}")]
    [InlineData("[]")]
    [InlineData("null")]
    public void Decide_JobsManagerCreatesWithAnotherLabel_Denied(string labels)
    {
        var secret = Json("{\"type\":\"Opaque\",\"metadata\":{\"name\":\"job-1-requests-proxy-token\",\"labels\":" + labels + "}}");

        AssertDenied(Policy.Decide(Review("CREATE", JobsManager, @object: secret)), SecretAdmissionPolicy.CreateRule, "it is not labelled");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("\"a string\"")]
    [InlineData("null")]
    public void Decide_JobsManagerCreateWithoutAnObject_Denied(string? @object)
    {
        var request = Review("CREATE", JobsManager, @object: @object is null ? null : Json(@object));

        AssertDenied(Policy.Decide(request), SecretAdmissionPolicy.CreateRule, "carries no object");
    }

    [Fact]
    public void Decide_JobsManagerReplacesItsOwnSecret_Allowed()
    {
        // A token refresh: the whole Secret PUT again, labels and all.
        var own = Secret("job-42-requests-proxy-token", "Opaque", labelled: true);

        var decision = Policy.Decide(Review("UPDATE", JobsManager, @object: own, old: own));

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.UpdateRule, decision.Rule);
    }

    [Theory]
    [InlineData("default-token-x7k2p", "kubernetes.io/service-account-token")]
    [InlineData("registry-pull", "kubernetes.io/dockerconfigjson")]
    [InlineData("someone-elses", "Opaque")]
    public void Decide_JobsManagerReplacesAnUnlabelledSecret_DeniedEvenWhenItAddsTheLabel(string name, string type)
    {
        // The object selector sends this review because the old object lacks the label; the new one carrying it changes nothing.
        var decision = Policy.Decide(Review("UPDATE", JobsManager, @object: Secret(name, type, labelled: true), old: Secret(name, type)));

        AssertDenied(decision, SecretAdmissionPolicy.UpdateRule, $"Secret ml-jobs/{name} is not one");
        Assert.Contains("may replace only the token Secrets it created", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_JobsManagerReplacesASecretLabelledByAnotherTool_Denied()
    {
        var old = Json("{\"type\":\"Opaque\",\"metadata\":{\"name\":\"x-requests-proxy-token\",\"labels\":{\"app.kubernetes.io/managed-by\":\"Helm\"}}}");

        AssertDenied(Policy.Decide(Review("UPDATE", JobsManager, @object: Secret("x-requests-proxy-token", "Opaque", labelled: true), old: old)), SecretAdmissionPolicy.UpdateRule, "is not one");
    }

    [Fact]
    public void Decide_JobsManagerRemovesTheLabelFromItsOwnSecret_AllowedAsTheOldObjectIsItsOwn()
    {
        // The same rule as the ValidatingAdmissionPolicy: what it may replace is decided by what is stored.
        var decision = Policy.Decide(Review("UPDATE", JobsManager, @object: Secret("job-1-requests-proxy-token", "Opaque"), old: Secret("job-1-requests-proxy-token", "Opaque", labelled: true)));

        Assert.True(decision.Allowed);
    }

    [Fact]
    public void Decide_JobsManagerUpdateWithoutOldObject_Denied()
    {
        AssertDenied(Policy.Decide(Review("UPDATE", JobsManager, @object: Secret("job-1-requests-proxy-token", "Opaque", labelled: true))), SecretAdmissionPolicy.UpdateRule, "carries no old object");
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("CONNECT")]
    public void Decide_JobsManagerOtherOperation_AllowedUnjudged(string operation)
    {
        // RBAC grants no delete on Secrets; the webhook is registered for CREATE and UPDATE only.
        var decision = Policy.Decide(Review(operation, JobsManager, old: Secret("default-token-x", "kubernetes.io/service-account-token")));

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.NotJudgedOperation, decision.Rule);
    }

    [Theory]
    [InlineData("", "configmaps", "")]
    [InlineData("batch", "jobs", "")]
    [InlineData("", "secrets", "status")]
    public void Decide_JobsManagerOnAnotherResource_AllowedUnjudged(string group, string resource, string subResource)
    {
        var request = Review("CREATE", JobsManager, @object: Json("{\"metadata\":{\"name\":\"x\"}}")) with
        {
            Resource = new AdmissionResource { Group = group, Version = "v1", Resource = resource },
            SubResource = subResource,
        };

        var decision = Policy.Decide(request);

        Assert.True(decision.Allowed);
        Assert.Equal(SecretAdmissionPolicy.NotASecret, decision.Rule);
    }

    internal static AdmissionRequest Review(string operation, string user, JsonElement? @object = null, JsonElement? old = null) => new()
    {
        Uid = "705ab4f5-6393-11e8-b7cc-42010a800002",
        Resource = new AdmissionResource { Group = "", Version = "v1", Resource = "secrets" },
        Namespace = "ml-jobs",
        Operation = operation,
        UserInfo = new AdmissionUserInfo { Username = user, Groups = ["system:serviceaccounts", "system:authenticated"] },
        Object = @object,
        OldObject = old,
    };

    internal static JsonElement Secret(string name, string? type, bool labelled = false, string? annotations = null)
    {
        var metadata = $"\"name\":\"{name}\",\"namespace\":\"ml-jobs\"" + (labelled ? "," + Label : "") + (annotations is null ? "" : ",\"annotations\":{" + annotations + "}");
        return Json("{\"apiVersion\":\"v1\",\"kind\":\"Secret\"" + (type is null ? "" : $",\"type\":\"{type}\"") + ",\"metadata\":{" + metadata + "},\"data\":{\"token\":\"c2VjcmV0\"}}");
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static void AssertDenied(AdmissionDecision decision, string rule, string detail)
    {
        Assert.False(decision.Allowed);
        Assert.Equal(rule, decision.Rule);
        Assert.StartsWith($"requests-proxy secret admission, rule {rule}: ", decision.Message, StringComparison.Ordinal);
        Assert.Contains(detail, decision.Message, StringComparison.Ordinal);
    }
}
