using System.Text.Json;

namespace RequestsProxy.Server.Admission;

/// <summary>The <c>request</c> of an AdmissionReview: who does what to which object.</summary>
internal sealed record AdmissionRequest
{
    public string? Uid { get; init; }

    public AdmissionResource? Resource { get; init; }

    public string? SubResource { get; init; }

    public string? Name { get; init; }

    public string? Namespace { get; init; }

    /// <summary>CREATE, UPDATE, DELETE or CONNECT.</summary>
    public string? Operation { get; init; }

    public AdmissionUserInfo? UserInfo { get; init; }

    /// <summary>The object as it would be stored (CREATE, UPDATE); read only when the jobs-manager is the user.</summary>
    public JsonElement? Object { get; init; }

    /// <summary>The object as it is stored (UPDATE, DELETE).</summary>
    public JsonElement? OldObject { get; init; }

    public bool? DryRun { get; init; }
}
