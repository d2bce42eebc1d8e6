using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>
/// The legacy token list in a local file (the Local runtime and the demo): read, change, write
/// atomically, under a lock file so concurrent local writers never lose an entry.
/// </summary>
public static class LegacyTokenFile
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Reads the list; a missing file is an empty list, a corrupt one an error naming the file.</summary>
    public static LegacyTokenList Read(string path)
    {
        if (!File.Exists(path))
        {
            return LegacyTokenList.Empty;
        }

        if (!LegacyTokenList.TryParse(File.ReadAllBytes(path), out var list, out var error))
        {
            throw new InvalidDataException($"legacy token list '{path}' is invalid: {error}");
        }

        return list;
    }

    /// <summary>Applies <paramref name="change"/> to the file's list and writes the result atomically.</summary>
    public static LegacyTokenList Update(string path, Func<LegacyTokenList, LegacyTokenList> change)
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
