namespace RequestsProxy.Server.Admission;

/// <summary>A <c>metav1.Status</c> as far as a denial needs one.</summary>
internal sealed record AdmissionStatus
{
    public int Code { get; init; }

    public string? Reason { get; init; }

    public string? Message { get; init; }
}
