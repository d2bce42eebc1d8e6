using System.Text.Json;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// What RBAC cannot say in a job namespace, for clusters without ValidatingAdmissionPolicy (the
/// chart's <c>jobs-manager-secret-policy.yaml</c> says the same on 1.30+): the jobs-manager may
/// create only Opaque Secrets named <c>&lt;job&gt;-requests-proxy-token</c> carrying its label,
/// and replace only Secrets that carry its label. Every other user, resource and operation is
/// allowed: the webhook judges the jobs-manager only.
/// </summary>
internal sealed class SecretAdmissionPolicy(string jobsManagerUser) : IAdmissionPolicy
{
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "requests-proxy-jobs-manager";
    public const string TokenSecretSuffix = "-requests-proxy-token";

    /// <summary>Rule names, in the denial message, the logs and the metrics.</summary>
    public const string CreateRule = "create-token-secrets-only";
    public const string UpdateRule = "replace-own-secrets-only";

    /// <summary>Reasons an allowed request was not judged.</summary>
    public const string NotTheJobsManager = "not-the-jobs-manager";
    public const string NotASecret = "not-a-secret";
    public const string NotJudgedOperation = "operation-not-judged";

    private const string Opaque = "Opaque";

    public string JobsManagerUser => jobsManagerUser;

    public string Path => AdmissionEndpoints.SecretsPath;

    public string Kind => "Secret";

    public AdmissionDecision Decide(AdmissionRequest request)
    {
        if (!string.Equals(request.UserInfo?.Username, jobsManagerUser, StringComparison.Ordinal))
        {
            return AdmissionDecision.Allow(NotTheJobsManager);
        }

        if (request.Resource is not { Group: null or "", Resource: "secrets" } || !string.IsNullOrEmpty(request.SubResource))
        {
            return AdmissionDecision.Allow(NotASecret);
        }

        return request.Operation switch
        {
            "CREATE" => DecideCreate(request),
            "UPDATE" => DecideUpdate(request),
            _ => AdmissionDecision.Allow(NotJudgedOperation),
        };
    }

    private static AdmissionDecision DecideCreate(AdmissionRequest request)
    {
        const string Rule = "the jobs-manager may create only Opaque Secrets named <job>" + TokenSecretSuffix + " labelled " + ManagedByLabel + "=" + ManagedByValue;
        if (request.Object is not { ValueKind: JsonValueKind.Object } secret)
        {
            return Deny(CreateRule, Rule, $"the review of {Where(request, null)} carries no object");
        }

        var name = Name(secret, request);
        var problems = new List<string>();
        // Defaulting runs before validating admission, so an omitted type arrives as Opaque; an absent one is Opaque too.
        var type = secret.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (!string.IsNullOrEmpty(type) && type != Opaque)
        {
            problems.Add($"its type is {type}");
        }

        if (name is null || name.Length <= TokenSecretSuffix.Length || !name.EndsWith(TokenSecretSuffix, StringComparison.Ordinal))
        {
            problems.Add($"its name does not end in {TokenSecretSuffix}");
        }

        if (!IsLabelled(secret))
        {
            problems.Add($"it is not labelled {ManagedByLabel}={ManagedByValue}");
        }

        return problems.Count == 0
            ? AdmissionDecision.Allow(CreateRule)
            : Deny(CreateRule, Rule, $"{Where(request, name)}: {string.Join(", ", problems)}");
    }

    private static AdmissionDecision DecideUpdate(AdmissionRequest request)
    {
        const string Rule = "the jobs-manager may replace only the token Secrets it created (labelled " + ManagedByLabel + "=" + ManagedByValue + ")";
        if (request.OldObject is not { ValueKind: JsonValueKind.Object } old)
        {
            return Deny(UpdateRule, Rule, $"the review of {Where(request, null)} carries no old object");
        }

        return IsLabelled(old)
            ? AdmissionDecision.Allow(UpdateRule)
            : Deny(UpdateRule, Rule, $"{Where(request, Name(old, request))} is not one");
    }

    private static AdmissionDecision Deny(string rule, string statement, string detail) =>
        AdmissionDecision.Deny(rule, $"requests-proxy secret admission, rule {rule}: {statement}; {detail}");

    private static bool IsLabelled(JsonElement secret) =>
        Metadata(secret, "labels") is { ValueKind: JsonValueKind.Object } labels
        && labels.TryGetProperty(ManagedByLabel, out var value)
        && value.ValueKind == JsonValueKind.String
        && value.ValueEquals(ManagedByValue);

    private static JsonElement? Metadata(JsonElement secret, string field) =>
        secret.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty(field, out var value)
            ? value
            : null;

    private static string? Name(JsonElement secret, AdmissionRequest request) =>
        Metadata(secret, "name") is { ValueKind: JsonValueKind.String } name ? name.GetString() : request.Name;

    private static string Where(AdmissionRequest request, string? name) =>
        $"Secret {request.Namespace}/{name ?? request.Name ?? "(no name)"}";
}
