namespace RequestsProxy.Server.Forwarding;

/// <summary>What one route demands of a caller and sends upstream, parsed once from its metadata.</summary>
internal sealed class RoutePolicy(string routeId, string? requiredScope, string? subjectParameter, UpstreamCredential? credential, bool allowUpgrade)
{
    public string RouteId { get; } = routeId;

    /// <summary>Null: any valid token.</summary>
    public string? RequiredScope { get; } = requiredScope;

    public string? SubjectParameter { get; } = subjectParameter;

    public UpstreamCredential? Credential { get; } = credential;

    public bool AllowUpgrade { get; } = allowUpgrade;
}
