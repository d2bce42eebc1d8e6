using Microsoft.Net.Http.Headers;
using RequestsProxy.Server.Authentication;
using Yarp.ReverseProxy.Transforms;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The request toward upstream: the pod's identity headers and Authorization are dropped, the
/// verified identity and the route's own credential are set. One transform for all of it keeps
/// the per-request work to a single pass over the inbound headers.
/// </summary>
internal sealed class UpstreamRequestTransform : RequestTransform
{
    public const string HeaderPrefix = "X-Requests-Proxy-";
    public const string SubjectHeader = "X-Requests-Proxy-Subject";
    public const string JtiHeader = "X-Requests-Proxy-Jti";

    public static readonly UpstreamRequestTransform Instance = new();

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var authorized = context.HttpContext.Features.Get<AuthorizedRequest>()
            ?? throw new InvalidOperationException("a request reached the forwarder without passing authentication");

        foreach (var header in context.HttpContext.Request.Headers)
        {
            if (IsSpoofable(header.Key))
            {
                RemoveHeader(context, header.Key);
            }
        }

        RemoveHeader(context, HeaderNames.Authorization);
        AddHeader(context, SubjectHeader, IdentityHeaderValue.Encode(authorized.Caller.Subject));
        if (authorized.Caller.Jti is { } jti)
        {
            AddHeader(context, JtiHeader, IdentityHeaderValue.Encode(jti));
        }

        if (authorized.UpstreamAuthorization is { } credential)
        {
            AddHeader(context, HeaderNames.Authorization, credential);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Any spelling a common server reads as one of the headers the proxy vouches for. Servers fold
    /// names: CGI/WSGI/PHP-FPM (<c>HTTP_X_REQUESTS_PROXY_SUBJECT</c>), nginx's
    /// <c>underscores_in_headers</c> and <c>$http_…</c> variables, Apache turning any
    /// non-alphanumeric into <c>_</c>. So names are compared on their letters and digits alone,
    /// case-insensitively: every name whose letters begin <c>XREQUESTSPROXY</c> goes, and so does a
    /// non-hyphen spelling of YARP's <c>X-Forwarded-*</c> (YARP replaces the hyphenated ones itself).
    /// Also gone, in any spelling: the headers with which common frameworks let a client replace the
    /// method (ASP.NET Core's <c>UseHttpMethodOverride</c>, Express' method-override, Symfony,
    /// Laravel, …) or the path (IIS/Symfony/Zend <c>X-Original-URL</c>, <c>X-Rewrite-URL</c>, Envoy's
    /// original path): the route's methods and the <c>sub</c> binding are judged on the request line,
    /// so the upstream must act on nothing else.
    /// </summary>
    internal static bool IsSpoofable(string name) =>
        StartsWithFolded(name, "xrequestsproxy")
        || (StartsWithFolded(name, "xforwarded") && (HasOtherSeparator(name) || EqualsFolded(name, "xforwardedpath")))
        || IsOverride(name);

    private static readonly string[] Overrides =
        ["xhttpmethodoverride", "xhttpmethod", "xmethodoverride", "xoriginalurl", "xrewriteurl", "xoriginalpath", "xenvoyoriginalpath"];

    private static bool IsOverride(string name)
    {
        foreach (var folded in Overrides)
        {
            if (EqualsFolded(name, folded))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StartsWithFolded(string name, string prefix) => MatchFolded(name, prefix, wholeName: false);

    private static bool EqualsFolded(string name, string folded) => MatchFolded(name, folded, wholeName: true);

    /// <summary>Compares <paramref name="name"/>'s letters and digits, lower-cased, with <paramref name="folded"/> (no allocation: this runs per inbound header).</summary>
    private static bool MatchFolded(string name, string folded, bool wholeName)
    {
        var matched = 0;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                continue;
            }

            if (matched == folded.Length)
            {
                return !wholeName;
            }

            if (char.ToLowerInvariant(c) != folded[matched])
            {
                return false;
            }

            matched++;
        }

        return matched == folded.Length;
    }

    private static bool HasOtherSeparator(string name)
    {
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-')
            {
                return true;
            }
        }

        return false;
    }
}
