namespace RequestsProxy.Tokens.IO;

/// <summary>
/// Replaces a file so that readers see either the old or the new content, never a torn one:
/// write a temp file beside it, fsync, rename over the target, fsync the folder.
/// </summary>
public static class AtomicFile
{
    /// <summary>Owner read/write only: for keys and tokens.</summary>
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <param name="mode">Unix permissions of the new file (less the umask), set when the temp file is
    /// created, so a secret is never readable by others even for a moment; null: the platform default.</param>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (mode is { } unixMode && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = unixMode;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
            FlushDirectory(directory);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteText(string path, string content, UnixFileMode? mode = null) => Write(path, System.Text.Encoding.UTF8.GetBytes(content), mode);

    // A rename is durable only once the folder entry is on disk; not supported on every platform.
    private static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
