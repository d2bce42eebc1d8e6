namespace RequestsProxy.Cli.Keys;

/// <summary>Where a key ring is kept: a folder, or (later) the keys Secret in Kubernetes.</summary>
internal interface IKeyRingStore
{
    /// <summary>Where, for messages.</summary>
    string Location { get; }

    /// <summary>Where, for machines: the folder's path, or the Secret's <c>namespace/name</c>.</summary>
    string Name { get; }

    /// <summary><c>folder</c> or <c>kubernetes-secret</c>.</summary>
    string Kind { get; }

    /// <summary>The ring's entries (<c>active</c>, <c>v1</c>, …) and its history; null when there is no ring yet.</summary>
    Task<KeyRingDocument?> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Stores the entries and history. <paramref name="create"/> refuses to overwrite an existing ring.</summary>
    Task WriteAsync(KeyRingDocument document, bool create, CancellationToken cancellationToken);
}
