using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The one spelling of a path the proxy relays (finding A4 of 2026-12-02). Readers disagree about
/// everything a path can carry beyond plain segments — a second percent-decode (<c>%252F</c>), an
/// encoded separator (<c>%2F</c>, <c>%5C</c>), <c>;params</c>, dot segments, empty segments,
/// trailing dots, a decoded <c>?</c> or <c>#</c> — so instead of guessing how the upstream reads
/// such a path, the proxy refuses it. The request target's path <b>as sent</b> is decoded once,
/// and it is canonical when:
/// <list type="bullet">
/// <item>every character, raw or decoded, is one a path never needs to encode: ASCII letters and
/// digits, <c>- . _ ~ ! $ &amp; ' ( ) * + , = : @</c> (RFC 3986 pchar without <c>;</c> and
/// <c>%</c>), and <c>/</c> raw only — so the decoded path holds no <c>%</c> at all and nothing is
/// left for a second decode;</item>
/// <item>no segment is empty (a trailing <c>/</c> is allowed), <c>.</c> or <c>..</c>, or ends in
/// <c>.</c>;</item>
/// <item>the decoded path is exactly the path Kestrel routed on (<see cref="HttpRequest.Path"/>):
/// the route, the <c>sub</c> binding and YARP's forwarding all see this one string, and YARP sends
/// it upstream as it is (it needs no escaping).</item>
/// </list>
/// </summary>
internal static class CanonicalPath
{
    // RFC 3986 pchar minus ';' (path parameters to Tomcat/Jetty) and '%' (handled as an escape).
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@");

    /// <summary>The request's path when it is canonical (its one decode); null when it must be refused.</summary>
    public static string? Of(HttpContext context)
    {
        var path = context.Request.Path.Value;
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var sent = raw is null ? path.AsSpan() : PathOf(raw);
        if (sent.IsEmpty || path is null || !Matches(sent, path))
        {
            return null;
        }

        return path;
    }

    /// <summary>True when <paramref name="sent"/> is canonical and decodes (once) to exactly <paramref name="decoded"/>.</summary>
    internal static bool Matches(ReadOnlySpan<char> sent, string decoded)
    {
        if (sent.IsEmpty || sent[0] != '/')
        {
            return false;
        }

        var written = 0;
        var segmentStart = 0;
        for (var i = 0; i < sent.Length; i++)
        {
            var c = sent[i];
            if (c == '/')
            {
                if (i > 0 && !SegmentOk(decoded.AsSpan(segmentStart, written - segmentStart), last: false))
                {
                    return false;
                }

                if (written >= decoded.Length || decoded[written] != '/')
                {
                    return false;
                }

                written++;
                segmentStart = written;
                continue;
            }

            if (c == '%')
            {
                if (i + 2 >= sent.Length || !char.IsAsciiHexDigit(sent[i + 1]) || !char.IsAsciiHexDigit(sent[i + 2]))
                {
                    return false;
                }

                c = (char)((HexValue(sent[i + 1]) << 4) | HexValue(sent[i + 2]));
                i += 2;
            }

            if (!Allowed.Contains(c) || written >= decoded.Length || decoded[written] != c)
            {
                return false;
            }

            written++;
        }

        return written == decoded.Length && SegmentOk(decoded.AsSpan(segmentStart), last: true);
    }

    /// <summary>The path part of a request target: origin-form as it is, absolute-form after its authority; empty for any other form.</summary>
    internal static ReadOnlySpan<char> PathOf(string target)
    {
        var span = target.AsSpan();
        if (span.IsEmpty)
        {
            return [];
        }

        if (span[0] != '/')
        {
            var scheme = span.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0)
            {
                return [];
            }

            span = span[(scheme + 3)..];
            var slash = span.IndexOfAny('/', '?');
            if (slash < 0 || span[slash] == '?')
            {
                // "http://host" and "http://host?q" mean the path "/".
                return "/";
            }

            span = span[slash..];
        }

        var query = span.IndexOf('?');
        return query < 0 ? span : span[..query];
    }

    // An empty segment is allowed only as the last one (a trailing slash); the root "/" has one.
    private static bool SegmentOk(ReadOnlySpan<char> segment, bool last) =>
        segment.IsEmpty ? last : segment[^1] != '.';

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
