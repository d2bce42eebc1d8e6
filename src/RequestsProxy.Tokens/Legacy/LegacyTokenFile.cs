using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>The legacy token list in a local file (<see cref="DocumentFile"/>: lock → read → atomic write): the Local runtime and the demo.</summary>
public static class LegacyTokenFile
{
    /// <summary>Reads the list; a missing file is an empty list, a corrupt one an error naming the file.</summary>
    public static LegacyTokenList Read(string path) => DocumentFile.Read(path, LegacyTokenListCodec.Instance).Document;

    /// <summary>Applies <paramref name="change"/> to the file's list and writes the result atomically.</summary>
    public static LegacyTokenList Update(string path, Func<LegacyTokenList, LegacyTokenList> change) =>
        DocumentFile.Update(path, LegacyTokenListCodec.Instance, change).Document;
}
