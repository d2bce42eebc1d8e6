namespace RequestsProxy.Server.Admission;

/// <summary>The <c>response</c> of an AdmissionReview: the request's uid and the verdict.</summary>
internal sealed record AdmissionResponse
{
    public required string Uid { get; init; }

    public required bool Allowed { get; init; }

    /// <summary>Why it was denied: the apiserver hands <c>code</c> and <c>message</c> to the client.</summary>
    public AdmissionStatus? Status { get; init; }
}
