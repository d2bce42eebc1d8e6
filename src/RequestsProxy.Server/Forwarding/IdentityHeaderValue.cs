namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The identity header values: the verified <c>sub</c> (and <c>jti</c>) percent-encoded as UTF-8,
/// every byte outside RFC 3986's unreserved set (<c>A–Z a–z 0–9 - . _ ~</c>) as <c>%XX</c> — a
/// <c>%</c> included. That is injective (<c>jobé1</c> → <c>job%C3%A91</c>, while the sub
/// <c>job%C3%A91</c> → <c>job%25C3%25A91</c>; <c>"job-1 "</c> → <c>job-1%20</c>) and one standard
/// percent-decode gives the sub back. A sub made of unreserved characters, as every Kubernetes job
/// name is, goes as it is. A sub that is not well-formed Unicode (a lone surrogate, which UTF-8
/// cannot carry) never gets here: the verifier calls such a token malformed and the legacy
/// registration refuses it.
/// </summary>
internal static class IdentityHeaderValue
{
    public static string Encode(string value)
    {
        foreach (var c in value)
        {
            if (!IsUnreserved(c))
            {
                // .NET's EscapeDataString escapes exactly what is not unreserved (RFC 3986 §2.3).
                return Uri.EscapeDataString(value);
            }
        }

        return value;
    }

    private static bool IsUnreserved(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~';
}
