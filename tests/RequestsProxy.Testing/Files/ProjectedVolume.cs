namespace RequestsProxy.Testing.Files;

/// <summary>
/// A folder updated exactly the way the kubelet updates a Secret or ConfigMap volume: the
/// content lives in a timestamped folder <c>..2026_11_29_10_00_00.123</c>, <c>..data</c> is a
/// symlink to it, and each visible entry is a symlink <c>name -> ..data/name</c>. An update
/// writes a new timestamped folder, swaps <c>..data</c> atomically (rename of a temp symlink),
/// adds/removes the per-name links and deletes the old folder.
/// </summary>
public sealed partial class ProjectedVolume
{
    private int _sequence;

    public ProjectedVolume(string path, IReadOnlyDictionary<string, string> files)
    {
        Path = path;
        Directory.CreateDirectory(path);
        Write(files);
    }

    public string Path { get; }

    /// <summary>Replaces the whole content, as one atomic swap.</summary>
    public void Write(IReadOnlyDictionary<string, string> files) =>
        WriteBytes(files.ToDictionary(f => f.Key, f => System.Text.Encoding.UTF8.GetBytes(f.Value)));

    public void WriteBytes(IReadOnlyDictionary<string, byte[]> files)
    {
        var stamp = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{Interlocked.Increment(ref _sequence):D6}";
        var newData = System.IO.Path.Combine(Path, stamp);
        Directory.CreateDirectory(newData);
        foreach (var (name, content) in files)
        {
            File.WriteAllBytes(System.IO.Path.Combine(newData, name), content);
        }

        var dataLink = System.IO.Path.Combine(Path, "..data");
        var oldTarget = new FileInfo(dataLink).LinkTarget;

        // Atomic swap: a new symlink under a temp name renamed over ..data.
        var tempLink = System.IO.Path.Combine(Path, "..data_tmp");
        File.Delete(tempLink);
        File.CreateSymbolicLink(tempLink, stamp);
        Rename(tempLink, dataLink);

        foreach (var name in files.Keys)
        {
            var link = System.IO.Path.Combine(Path, name);
            if (new FileInfo(link).LinkTarget is null)
            {
                File.Delete(link);
                File.CreateSymbolicLink(link, System.IO.Path.Combine("..data", name));
            }
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(Path))
        {
            var name = System.IO.Path.GetFileName(entry);
            if (!name.StartsWith('.') && !files.ContainsKey(name))
            {
                File.Delete(entry);
            }
        }

        if (oldTarget is not null && oldTarget != stamp)
        {
            Directory.Delete(System.IO.Path.Combine(Path, oldTarget), recursive: true);
        }
    }

    // rename(2) replaces the ..data symlink itself in one step, as the kubelet's os.Rename does;
    // File.Move refuses a symlink that points at a folder.
    private static void Rename(string from, string to)
    {
        if (NativeRename(from, to) != 0)
        {
            throw new IOException($"rename '{from}' -> '{to}' failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "rename", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int NativeRename(string from, string to);
}
