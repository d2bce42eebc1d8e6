namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>One resource the fake API server serves, as discovery describes it.</summary>
internal sealed record FakeResourceType(
    string Group,
    string Version,
    string Plural,
    string Singular,
    string Kind,
    bool Namespaced)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Kubernetes' own display of a resource in error messages: <c>jobs.batch</c>, <c>secrets</c>.</summary>
    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}
