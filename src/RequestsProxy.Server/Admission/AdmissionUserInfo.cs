namespace RequestsProxy.Server.Admission;

/// <summary>The authenticated user of the request, as the apiserver saw it.</summary>
internal sealed record AdmissionUserInfo
{
    public string? Username { get; init; }

    public IReadOnlyList<string>? Groups { get; init; }
}
