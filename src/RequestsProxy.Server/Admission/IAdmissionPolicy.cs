namespace RequestsProxy.Server.Admission;

/// <summary>One resource's rules behind one path of the admission port; the review plumbing (<see cref="AdmissionEndpoints"/>) is shared.</summary>
internal interface IAdmissionPolicy
{
    /// <summary>The path the webhook configuration names, e.g. <c>/admission/v1/secrets</c>.</summary>
    string Path { get; }

    /// <summary>The kind judged, for the logs (Secret, Job, Pod, ConfigMap).</summary>
    string Kind { get; }

    AdmissionDecision Decide(AdmissionRequest request);
}
