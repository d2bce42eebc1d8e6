using System.Text.Json;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// A job's token Secret reaches only that job's own pods (the chart's <c>jobs-manager-pod-policy.yaml</c> says the
/// same as a ValidatingAdmissionPolicy on 1.30+). In a job namespace a pod that names a Secret
/// <c>*-requests-proxy-token</c> in any form (<see cref="SecretReferences"/>) must be created by the Job controller
/// and be controlled by the Job whose name plus <c>-requests-proxy-token</c> is that Secret's name — which is where
/// both the jobs-manager's Jobs and adopted Jobs (adopt mode mounts the same documented name) have their pods.
/// Any other creator — a user with <c>pods: create</c>, another controller — would otherwise hand untrusted code
/// another job's identity at the proxy. Ephemeral containers added later may name no token Secret. Pods that
/// name none are not judged: this is no general pod policy. It judges every user, so it cannot be limited to the
/// jobs-manager with matchConditions.
/// </summary>
internal sealed class PodAdmissionPolicy(IReadOnlyCollection<string> jobControllerUsers) : IAdmissionPolicy
{
    public const string OwnJobRule = "token-secret-in-its-jobs-pods-only";
    public const string EphemeralRule = "no-token-secret-in-ephemeral-containers";

    public const string NoTokenSecret = "no-token-secret";
    public const string NotAPod = "not-a-pod";

    public string Path => AdmissionEndpoints.PodsPath;

    public string Kind => "Pod";

    public AdmissionDecision Decide(AdmissionRequest request)
    {
        if (request.Resource is not { Group: null or "", Resource: "pods" })
        {
            return AdmissionDecision.Allow(NotAPod);
        }

        return (request.Operation, request.SubResource) switch
        {
            ("CREATE", null or "") => DecideCreate(request),
            ("UPDATE", "ephemeralcontainers") => DecideEphemeral(request),
            _ => AdmissionDecision.Allow(SecretAdmissionPolicy.NotJudgedOperation),
        };
    }

    private AdmissionDecision DecideCreate(AdmissionRequest request)
    {
        if (request.Object is not { ValueKind: JsonValueKind.Object } pod)
        {
            return Deny(OwnJobRule, $"the review of Pod {request.Namespace}/{request.Name} carries no object");
        }

        var tokens = TokenReferences(pod).ToList();
        if (tokens.Count == 0)
        {
            return AdmissionDecision.Allow(NoTokenSecret);
        }

        var metadata = SecretReferences.Property(pod, "metadata");
        var name = metadata is { } m && SecretReferences.Text(m, "name") is { Length: > 0 } n ? n
            : metadata is { } g && SecretReferences.Text(g, "generateName") is { Length: > 0 } prefix ? prefix + "*" : request.Name;
        var where = $"Pod {request.Namespace}/{name}";
        var user = request.UserInfo?.Username ?? "";
        if (!jobControllerUsers.Contains(user))
        {
            return Deny(OwnJobRule, $"{where} names token Secret '{tokens[0].Name}' at 'spec.{tokens[0].Field}' and is created by '{user}', not by the Job controller");
        }

        var job = ControllingJob(metadata);
        if (job is null)
        {
            return Deny(OwnJobRule, $"{where} names token Secret '{tokens[0].Name}' at 'spec.{tokens[0].Field}' and no Job controls it (metadata.ownerReferences)");
        }

        var own = job + SecretAdmissionPolicy.TokenSecretSuffix;
        var foreign = tokens.Where(t => t.Name != own).ToList();
        return foreign.Count == 0
            ? AdmissionDecision.Allow(OwnJobRule)
            : Deny(OwnJobRule, $"{where} of Job '{job}' names {string.Join(", ", foreign.Select(t => $"'{t.Name}' at 'spec.{t.Field}'"))}: its pods may name only '{own}'");
    }

    private static AdmissionDecision DecideEphemeral(AdmissionRequest request)
    {
        if (request.Object is not { ValueKind: JsonValueKind.Object } pod)
        {
            return Deny(EphemeralRule, $"the review of Pod {request.Namespace}/{request.Name} carries no object");
        }

        var added = TokenReferences(pod).Where(t => t.Field.StartsWith("ephemeralContainers[", StringComparison.Ordinal)).ToList();
        return added.Count == 0
            ? AdmissionDecision.Allow(EphemeralRule)
            : Deny(EphemeralRule, $"Pod {request.Namespace}/{request.Name}: {string.Join(", ", added.Select(t => $"'spec.{t.Field}' names token Secret '{t.Name}'"))}");
    }

    private static IEnumerable<SecretReference> TokenReferences(JsonElement pod) =>
        SecretReferences.Property(pod, "spec") is { } spec
            ? SecretReferences.Of(spec).Where(r => r.Name.EndsWith(SecretAdmissionPolicy.TokenSecretSuffix, StringComparison.Ordinal))
            : [];

    /// <summary>The name of the Job that controls the pod (ownerReference controller: true, batch Job), or null.</summary>
    private static string? ControllingJob(JsonElement? metadata)
    {
        if (metadata is not { } m)
        {
            return null;
        }

        foreach (var (owner, _) in SecretReferences.Items(m, "ownerReferences"))
        {
            if (owner.TryGetProperty("controller", out var controller) && controller.ValueKind == JsonValueKind.True
                && SecretReferences.Text(owner, "kind") == "Job" && SecretReferences.Text(owner, "apiVersion").StartsWith("batch/", StringComparison.Ordinal)
                && SecretReferences.Text(owner, "name") is { Length: > 0 } name)
            {
                return name;
            }
        }

        return null;
    }

    private static AdmissionDecision Deny(string rule, string detail) =>
        AdmissionDecision.Deny(rule, $"requests-proxy pod admission, rule {rule}: a job's token Secret (<job>{SecretAdmissionPolicy.TokenSecretSuffix}) may be named only by the pods the Job controller creates for that Job; {detail}");
}
