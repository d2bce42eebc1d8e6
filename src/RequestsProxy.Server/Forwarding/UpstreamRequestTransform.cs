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
            if (header.Key.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                RemoveHeader(context, header.Key);
            }
        }

        RemoveHeader(context, HeaderNames.Authorization);
        AddHeader(context, SubjectHeader, SafeHeaderValue(authorized.Caller.Subject));
        if (authorized.Caller.Jti is { } jti)
        {
            AddHeader(context, JtiHeader, SafeHeaderValue(jti));
        }

        if (authorized.UpstreamAuthorization is { } credential)
        {
            AddHeader(context, HeaderNames.Authorization, credential);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A signed sub is trusted but may hold characters a header cannot carry (non-ASCII, CR/LF):
    /// those are percent-encoded rather than failing the request.
    /// </summary>
    internal static string SafeHeaderValue(string value)
    {
        foreach (var c in value)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                return Uri.EscapeDataString(value);
            }
        }

        return value;
    }
}
