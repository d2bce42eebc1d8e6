namespace RequestsProxy.Testing.FakeKubernetes;

/// <summary>Identity of a stored object; <see cref="Namespace"/> is empty for cluster-scoped kinds.</summary>
internal readonly record struct FakeObjectKey(string Group, string Plural, string Namespace, string Name)
{
    public static FakeObjectKey For(FakeResourceType type, string? ns, string name) =>
        new(type.Group, type.Plural, type.Namespaced ? ns ?? string.Empty : string.Empty, name);
}
