namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// A request path as the most lenient common upstream could read it, for deciding which bound
/// pattern or reserved prefix it falls under. Kestrel has already decoded it (except <c>%2F</c>)
/// and removed dot segments; upstream servers may go further: decode again (<c>%2F</c>, double
/// encoding), take <c>\</c> for <c>/</c>, collapse <c>//</c>, drop <c>;params</c> (Tomcat, Jetty),
/// trim trailing dots and spaces (Windows servers), stop at a NUL, and read a decoded <c>?</c> or
/// <c>#</c> (<c>%3F</c>, <c>%23</c>, a raw <c>#</c> Kestrel keeps in the path) as the end of the
/// path, as a hop that decodes and re-parses the target does. Every one of those is applied here,
/// so a path is judged by the loosest reading of it.
/// </summary>
internal static class PathNormalizer
{
    private const int MaxDecodeRounds = 4;

    /// <summary>
    /// <c>/seg/seg/…</c> without empty, <c>.</c> or <c>..</c> segments and without a trailing slash
    /// (<c>/</c> for the root). A path that is already in that form is returned as is, unallocated.
    /// </summary>
    public static string Normalize(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "/")
        {
            return "/";
        }

        return IsPlain(path) ? path : Rebuild(path);
    }

    /// <summary>Case-insensitive comparison of two normalised segments' literal text, as upstream routers do.</summary>
    public static bool SameLiteral(ReadOnlySpan<char> segment, string literal) => segment.Equals(literal, StringComparison.OrdinalIgnoreCase);

    // Starts with '/', no empty segment, no trailing '/', and none of the characters any reading could change.
    private static bool IsPlain(string path)
    {
        if (path[0] != '/' || path[^1] == '/')
        {
            return false;
        }

        // From the second character: the leading '/' is no empty segment (starting at the first made every
        // path look like "//…" and sent each request through Rebuild, 712 B allocated; docs/benchmarks.md).
        var previous = '/';
        foreach (var c in path.AsSpan(1))
        {
            switch (c)
            {
                case '%' or ';' or '?' or '#' or '\\' or ' ' or '\t' or '\0':
                    return false;
                case '/' when previous is '/' or '.':
                    return false;
                default:
                    if (char.IsWhiteSpace(c) || char.IsControl(c))
                    {
                        return false;
                    }

                    break;
            }

            previous = c;
        }

        return previous != '.';
    }

    private static string Rebuild(string path)
    {
        var decoded = path;
        for (var round = 0; round < MaxDecodeRounds && decoded.Contains('%', StringComparison.Ordinal); round++)
        {
            var next = Uri.UnescapeDataString(decoded);
            if (next == decoded)
            {
                break;
            }

            decoded = next;
        }

        var segments = new List<string>();
        foreach (var raw in decoded.Replace('\\', '/').Split('/'))
        {
            var segment = raw.AsSpan();
            // Cutting only the segment (not the rest of the path) keeps every later segment: a path
            // that a reader ending it at '?' finds under a bound pattern is under it here too.
            var cut = segment.IndexOfAny(";\0?#");
            if (cut >= 0)
            {
                segment = segment[..cut];
            }

            if (segment is "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segment = segment.TrimEnd(". \t\r\n\f\v").TrimStart(" \t\r\n\f\v");
            if (!segment.IsEmpty)
            {
                segments.Add(segment.ToString());
            }
        }

        return segments.Count == 0 ? "/" : "/" + string.Join('/', segments);
    }
}
