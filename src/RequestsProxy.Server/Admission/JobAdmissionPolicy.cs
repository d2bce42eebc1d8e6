using System.Text.Json;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// What the jobs-manager's <c>jobs: create</c> in a job namespace must not become: a way to hand a pod the
/// namespace's Secrets or a Kubernetes credential (the chart's <c>jobs-manager-job-policy.yaml</c> says the same
/// as a ValidatingAdmissionPolicy on 1.30+). A Job the jobs-manager creates or changes may name only its own token
/// Secret <c>&lt;job&gt;-requests-proxy-token</c> where the pod reads it (image pull and volume plugin Secrets are
/// the node's: any but another job's token), must run without a service-account token (automount false, no
/// projected serviceAccountToken, no service account but <c>default</c>), and shares nothing with its node (no
/// hostPath, host namespaces, privileged containers or nodeName). These mirror the credential and host rules of
/// the jobs-manager's own template validation, which refuses them from API users; its scheduling policy is not
/// repeated. Every other user (adopt mode's tools included), resource and operation is allowed.
/// </summary>
internal sealed class JobAdmissionPolicy(string jobsManagerUser) : IAdmissionPolicy
{
    /// <summary>Rule names, in the denial message, the logs and the metrics.</summary>
    public const string SecretsRule = "job-reads-its-token-secret-only";
    public const string CredentialRule = "job-gets-no-api-credential";
    public const string HostRule = "job-shares-nothing-with-its-node";

    public const string NotAJob = "not-a-job";

    public string Path => AdmissionEndpoints.JobsPath;

    public string Kind => "Job";

    public AdmissionDecision Decide(AdmissionRequest request)
    {
        if (!string.Equals(request.UserInfo?.Username, jobsManagerUser, StringComparison.Ordinal))
        {
            return AdmissionDecision.Allow(SecretAdmissionPolicy.NotTheJobsManager);
        }

        if (request.Resource is not { Group: "batch", Resource: "jobs" } || !string.IsNullOrEmpty(request.SubResource))
        {
            return AdmissionDecision.Allow(NotAJob);
        }

        if (request.Operation is not ("CREATE" or "UPDATE"))
        {
            return AdmissionDecision.Allow(SecretAdmissionPolicy.NotJudgedOperation);
        }

        if (request.Object is not { ValueKind: JsonValueKind.Object } job)
        {
            return Deny(SecretsRule, $"the review of Job {request.Namespace}/{request.Name} carries no object");
        }

        var name = SecretReferences.Property(job, "metadata") is { } metadata && SecretReferences.Text(metadata, "name") is { Length: > 0 } own ? own : request.Name ?? "";
        var pod = SecretReferences.Property(job, "spec") is { } spec && SecretReferences.Property(spec, "template") is { } template
            && SecretReferences.Property(template, "spec") is { } podSpec ? podSpec : (JsonElement?)null;
        if (pod is null || name.Length == 0)
        {
            return Deny(SecretsRule, $"Job {request.Namespace}/{name}: no name or no spec.template.spec to judge");
        }

        var problems = new List<(string Rule, string Problem)>();
        Secrets(pod.Value, name, problems);
        Credentials(pod.Value, problems);
        Host(pod.Value, problems);
        return problems.Count == 0
            ? AdmissionDecision.Allow(SecretsRule)
            : Deny(problems[0].Rule, $"Job {request.Namespace}/{name}: {string.Join("; ", problems.Select(p => $"{p.Problem} (rule {p.Rule})"))}");
    }

    private const string Pod = "spec.template.spec";

    private static void Secrets(JsonElement pod, string job, List<(string, string)> problems)
    {
        var token = job + SecretAdmissionPolicy.TokenSecretSuffix;
        foreach (var reference in SecretReferences.Of(pod).Where(r => r.Name != token))
        {
            if (reference.Use == SecretUse.ReadByThePod)
            {
                problems.Add((SecretsRule, $"'{Pod}.{reference.Field}' names Secret '{reference.Name}': the pod may read only its token Secret '{token}'"));
            }
            else if (reference.Name.EndsWith(SecretAdmissionPolicy.TokenSecretSuffix, StringComparison.Ordinal))
            {
                problems.Add((SecretsRule, $"'{Pod}.{reference.Field}' names another job's token Secret '{reference.Name}'"));
            }
        }
    }

    private static void Credentials(JsonElement pod, List<(string, string)> problems)
    {
        if (!pod.TryGetProperty("automountServiceAccountToken", out var automount) || automount.ValueKind != JsonValueKind.False)
        {
            problems.Add((CredentialRule, $"'{Pod}.automountServiceAccountToken' must be false (left out, the pods get the service account's token)"));
        }

        foreach (var field in (string[])["serviceAccountName", "serviceAccount"])
        {
            if (SecretReferences.Text(pod, field) is { Length: > 0 } account && account != "default")
            {
                problems.Add((CredentialRule, $"'{Pod}.{field}' '{account}': training pods run as the namespace's default service account"));
            }
        }

        foreach (var (volume, i) in SecretReferences.Items(pod, "volumes"))
        {
            if (SecretReferences.Property(volume, "projected") is { } projected)
            {
                foreach (var (source, s) in SecretReferences.Items(projected, "sources"))
                {
                    if (SecretReferences.Property(source, "serviceAccountToken") is not null)
                    {
                        problems.Add((CredentialRule, $"'{Pod}.volumes[{i}].projected.sources[{s}].serviceAccountToken' is not allowed"));
                    }
                }
            }
        }
    }

    private static void Host(JsonElement pod, List<(string, string)> problems)
    {
        foreach (var field in (string[])["hostNetwork", "hostPID", "hostIPC"])
        {
            if (pod.TryGetProperty(field, out var on) && on.ValueKind == JsonValueKind.True)
            {
                problems.Add((HostRule, $"'{Pod}.{field}' must not be true"));
            }
        }

        if (SecretReferences.Text(pod, "nodeName") is { Length: > 0 } node)
        {
            problems.Add((HostRule, $"'{Pod}.nodeName' '{node}' must be left out (it bypasses the scheduler and the taints that keep jobs off control-plane nodes)"));
        }

        foreach (var (volume, i) in SecretReferences.Items(pod, "volumes"))
        {
            if (SecretReferences.Property(volume, "hostPath") is not null)
            {
                problems.Add((HostRule, $"'{Pod}.volumes[{i}].hostPath' is not allowed"));
            }
        }

        foreach (var list in (string[])["initContainers", "containers", "ephemeralContainers"])
        {
            foreach (var (container, c) in SecretReferences.Items(pod, list))
            {
                if (SecretReferences.Property(container, "securityContext") is { } context
                    && context.TryGetProperty("privileged", out var privileged) && privileged.ValueKind == JsonValueKind.True)
                {
                    problems.Add((HostRule, $"'{Pod}.{list}[{c}].securityContext.privileged' must not be true"));
                }
            }
        }
    }

    private static AdmissionDecision Deny(string rule, string detail) =>
        AdmissionDecision.Deny(rule, $"requests-proxy job admission, rule {rule}: a Job of the jobs-manager may read only its own token Secret and gets no Kubernetes credential nor node access; {detail}");
}
