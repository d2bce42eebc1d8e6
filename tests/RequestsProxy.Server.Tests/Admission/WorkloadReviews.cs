using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using RequestsProxy.JobsManager;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.Server.Admission;

namespace RequestsProxy.Server.Tests.Admission;

/// <summary>Jobs and Pods as the apiserver hands them to the webhook: the jobs-manager's own Job is built by its own code.</summary>
internal static class WorkloadReviews
{
    public const string JobController = "system:serviceaccount:kube-system:job-controller";

    /// <summary>The Job the jobs-manager creates for a start request (simple form, or the given template), as JSON.</summary>
    public static JsonObject EmittedJob(string name = "job-1", V1JobSpec? template = null)
    {
        var spec = new JobSpec(name, "trainer:1", ["python", "train.py"], [], "results:write", new Dictionary<string, string> { ["EPOCHS"] = "3" },
            template is null ? null : new JobTemplate(new Dictionary<string, string>(), new Dictionary<string, string>(), template), "ml-jobs");
        var job = KubernetesObjects.Job(spec, new JobsManagerOptions { ReleaseName = "rp", Namespace = "ml" });
        return JsonNode.Parse(k8s.KubernetesJson.Serialize(job))!.AsObject();
    }

    /// <summary>A pod as the Job controller creates it from the Job's template: controlled by the Job.</summary>
    public static JsonObject PodOf(JsonObject job, string? ownerName = null)
    {
        var template = job["spec"]!["template"]!.DeepClone().AsObject();
        var metadata = template["metadata"]?.AsObject() ?? [];
        metadata["generateName"] = (string)job["metadata"]!["name"]! + "-";
        metadata["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "batch/v1",
            ["kind"] = "Job",
            ["name"] = ownerName ?? (string)job["metadata"]!["name"]!,
            ["uid"] = "0f6a1c5e-1111-2222-3333-444455556666",
            ["controller"] = true,
            ["blockOwnerDeletion"] = true,
        });
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = metadata.DeepClone(), ["spec"] = template["spec"]!.DeepClone() };
    }

    public static AdmissionRequest Review(string group, string resource, string operation, string user, JsonNode? @object, string? subResource = null, JsonNode? old = null, string ns = "ml-jobs") => new()
    {
        Uid = "705ab4f5-6393-11e8-b7cc-42010a800002",
        Resource = new AdmissionResource { Group = group, Version = "v1", Resource = resource },
        SubResource = subResource,
        Namespace = ns,
        Name = (string?)@object?["metadata"]?["name"],
        Operation = operation,
        UserInfo = new AdmissionUserInfo { Username = user, Groups = ["system:authenticated"] },
        Object = @object is null ? null : JsonDocument.Parse(@object.ToJsonString()).RootElement.Clone(),
        OldObject = old is null ? null : JsonDocument.Parse(old.ToJsonString()).RootElement.Clone(),
    };

    public static JsonObject PodSpec(JsonObject job) => job["spec"]!["template"]!["spec"]!.AsObject();

    public static void AssertDenied(AdmissionDecision decision, string rule, params string[] details)
    {
        Assert.False(decision.Allowed, decision.Message);
        Assert.Equal(rule, decision.Rule);
        Assert.Contains($"rule {rule}: ", decision.Message, StringComparison.Ordinal);
        foreach (var detail in details)
        {
            Assert.Contains(detail, decision.Message, StringComparison.Ordinal);
        }
    }
}
