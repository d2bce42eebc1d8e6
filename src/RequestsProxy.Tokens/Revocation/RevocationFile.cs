using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Revocation;

/// <summary>The revocation list in a local file (<see cref="DocumentFile"/>: lock → read → atomic write).</summary>
public static class RevocationFile
{
    public const string FileName = "revoked.json";

    /// <summary>Reads the list; a missing file is an empty list, a corrupt one an error naming the file.</summary>
    public static RevocationList Read(string path) => DocumentFile.Read(path, RevocationListCodec.Instance).Document;

    /// <summary>Applies <paramref name="change"/> to the file's list and writes the result atomically.</summary>
    public static RevocationList Update(string path, Func<RevocationList, RevocationList> change) =>
        DocumentFile.Update(path, RevocationListCodec.Instance, change).Document;
}
