namespace RequestsProxy.Tokens.IO;

/// <summary>How one kind of stored document (the revocation list, the job ledger) is read and written, wherever it is stored.</summary>
public interface IDocumentCodec<T> where T : class
{
    /// <summary>What the document is, for error messages ("revocation list").</summary>
    string Description { get; }

    /// <summary>The document when nothing is stored yet.</summary>
    T Empty { get; }

    /// <summary>False, with a reason, for anything but a valid document: a store never overwrites what it cannot read.</summary>
    bool TryParse(ReadOnlySpan<byte> content, out T document, out string error);

    byte[] Serialize(T document);
}
