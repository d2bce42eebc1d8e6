namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>
/// One request the fake API server answered. <see cref="Verb"/> is the RBAC verb (<c>get</c>,
/// <c>list</c>, <c>create</c>, <c>update</c>, <c>patch</c>, <c>delete</c>) for resource requests
/// and null for discovery; <see cref="Recognized"/> is false for paths the fake does not serve.
/// </summary>
public sealed record FakeKubernetesRequest(
    string Method,
    string Path,
    string QueryString,
    string? Verb,
    string? ApiGroup,
    string? Resource,
    string? Namespace,
    string? Name,
    string? ContentType,
    string Body,
    int StatusCode,
    bool Recognized);
