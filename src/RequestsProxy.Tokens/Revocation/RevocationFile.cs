using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// A revocation list in a local file (the Local runtime and the CLI): read, change, write
/// atomically, under a lock file so concurrent local writers never lose an entry.
/// </summary>
public static class RevocationFile
{
    public const string FileName = "revoked.json";

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Reads the list; a missing file is an empty list, a corrupt one an error naming the file.</summary>
    public static RevocationList Read(string path)
    {
        if (!File.Exists(path))
        {
            return RevocationList.Empty;
        }

        var bytes = File.ReadAllBytes(path);
        if (!RevocationList.TryParse(bytes, out var list, out var error))
        {
            throw new InvalidDataException($"revocation list '{path}' is invalid: {error}");
        }

        return list;
    }

    /// <summary>Applies <paramref name="change"/> to the file's list and writes the result atomically.</summary>
    public static RevocationList Update(string path, Func<RevocationList, RevocationList> change)
    {
        using var fileLock = FileLock.Acquire(path, LockTimeout);
        var current = Read(path);
        var next = change(current);
        if (!ReferenceEquals(next, current) || !File.Exists(path))
        {
            AtomicFile.Write(path, next.Serialize());
        }

        return next;
    }
}
