namespace RequestsProxy.Tokens.IO;

/// <summary>
/// Which files of a mounted folder make up one document, in the order their parts are combined:
/// <see cref="Names"/> first, then every other file whose name <see cref="ExtraOrder"/> accepts
/// (shards found in the folder), by the number it returns.
/// </summary>
/// <param name="Directory">The folder (a ConfigMap or projected volume).</param>
/// <param name="Names">The files always looked for.</param>
/// <param name="Required">
/// True: the source is not ready until each of <see cref="Names"/> has been read once (fail closed:
/// an <c>optional</c> volume whose ConfigMap does not exist yet is an empty folder, not an empty
/// list). False: a file that does not exist yet is left out, and no file at all is the empty document.
/// </param>
/// <param name="ExtraOrder">The place of another file of the folder (≥ 0), or −1 when it is not a part; null: none.</param>
public sealed record MountedFiles(string Directory, IReadOnlyList<string> Names, bool Required = false, Func<string, int>? ExtraOrder = null)
{
    /// <summary>One file.</summary>
    public static MountedFiles Single(string path, bool required = false) =>
        new(System.IO.Path.GetDirectoryName(path) ?? ".", [System.IO.Path.GetFileName(path)], required);

    /// <summary>The files to read now, in combining order: the named ones, then the extras found or read before.</summary>
    internal IReadOnlyList<string> List(IEnumerable<string> readBefore)
    {
        var extras = new SortedSet<(int Order, string Name)>();
        if (ExtraOrder is { } order)
        {
            var candidates = readBefore.Where(n => !Names.Contains(n, StringComparer.Ordinal));
            if (System.IO.Directory.Exists(Directory))
            {
                candidates = candidates.Concat(System.IO.Directory.EnumerateFiles(Directory).Select(p => System.IO.Path.GetFileName(p)));
            }

            foreach (var name in candidates)
            {
                if (!Names.Contains(name, StringComparer.Ordinal) && order(name) is >= 0 and var n)
                {
                    extras.Add((n, name));
                }
            }
        }

        return [.. Names, .. extras.Select(e => e.Name)];
    }

    public string PathOf(string name) => System.IO.Path.Combine(Directory, name);
}
