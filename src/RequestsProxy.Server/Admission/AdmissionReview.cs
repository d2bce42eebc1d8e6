namespace RequestsProxy.Server.Admission;

/// <summary>
/// <c>admission.k8s.io/v1</c> AdmissionReview, as much of it as the Secret webhook reads and writes.
/// KubernetesClient has no admission types (kubernetes-client/csharp#1247: they are not in the
/// API's OpenAPI document), so this is the minimal model; unknown fields are ignored.
/// </summary>
internal sealed record AdmissionReview
{
    public const string V1 = "admission.k8s.io/v1";
    public const string ReviewKind = "AdmissionReview";

    public string? ApiVersion { get; init; }

    public string? Kind { get; init; }

    public AdmissionRequest? Request { get; init; }

    public AdmissionResponse? Response { get; init; }
}
