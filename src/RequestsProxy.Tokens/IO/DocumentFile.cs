namespace RequestsProxy.Tokens.IO;

/// <summary>
/// A document in a local file: read (a missing file is the empty document, an unreadable one an
/// error naming the file) and changed under a <see cref="FileLock"/> with an <see cref="AtomicFile"/>
/// write, so concurrent local writers (the jobs-manager, rpctl) never lose each other's changes and
/// readers never see a torn file. Content that does not parse is never overwritten.
/// </summary>
public static class DocumentFile
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public static DocumentSnapshot<T> Read<T>(string path, IDocumentCodec<T> codec) where T : class
    {
        if (!File.Exists(path))
        {
            return new DocumentSnapshot<T>(codec.Empty, 0);
        }

        var bytes = File.ReadAllBytes(path);
        if (!codec.TryParse(bytes, out var document, out var error))
        {
            throw new InvalidDataException($"{codec.Description} '{path}' is invalid: {error}");
        }

        return new DocumentSnapshot<T>(document, bytes.LongLength);
    }

    /// <summary>Applies <paramref name="change"/> to the file's document and writes the result atomically (not when unchanged).</summary>
    /// <param name="mode">Unix permissions of a newly written file; null: the platform default.</param>
    public static DocumentSnapshot<T> Update<T>(string path, IDocumentCodec<T> codec, Func<T, T> change, UnixFileMode? mode = null) where T : class
    {
        using var fileLock = FileLock.Acquire(path, LockTimeout);
        var current = Read(path, codec);
        var next = change(current.Document);
        if (ReferenceEquals(next, current.Document) && File.Exists(path))
        {
            return current;
        }

        var bytes = codec.Serialize(next);
        AtomicFile.Write(path, bytes, mode);
        return new DocumentSnapshot<T>(next, bytes.LongLength);
    }
}
