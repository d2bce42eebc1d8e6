namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// Paths the pod-facing port never relays, however spelled (judged on the normalised path): the
/// whole <c>/admin/v1</c> prefix (the legacy registration endpoints are the proxy's own) and the
/// management paths, which are served on the management port only.
/// </summary>
internal static class ReservedPaths
{
    public static readonly string[] Management = ["healthz", "readyz", "metrics"];

    public static bool IsReserved(string? path)
    {
        var normalized = PathNormalizer.Normalize(path).AsSpan(1);
        var slash = normalized.IndexOf('/');
        var first = slash < 0 ? normalized : normalized[..slash];
        if (PathNormalizer.SameLiteral(first, "admin"))
        {
            var rest = slash < 0 ? [] : normalized[(slash + 1)..];
            var second = rest.IndexOf('/') is var next and >= 0 ? rest[..next] : rest;
            return PathNormalizer.SameLiteral(second, "v1");
        }

        if (slash < 0)
        {
            foreach (var name in Management)
            {
                if (PathNormalizer.SameLiteral(first, name))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
