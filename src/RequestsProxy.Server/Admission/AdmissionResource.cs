namespace RequestsProxy.Server.Admission;

/// <summary>The group, version and resource (plural) a request is about; Secrets are <c>""/v1/secrets</c>.</summary>
internal sealed record AdmissionResource
{
    public string? Group { get; init; }

    public string? Version { get; init; }

    public string? Resource { get; init; }
}
