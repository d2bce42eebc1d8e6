using Microsoft.Net.Http.Headers;
using RequestsProxy.Server.Authentication;
using Yarp.ReverseProxy.Transforms;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// The request toward upstream: the pod's Authorization is dropped, the verified identity and the
/// route's own credential are set. Every inbound header a proxy would assert (ours included) was
/// removed before YARP copied the request (<see cref="ProxyAssertedHeaders"/>, <see cref="RelayMiddleware"/>).
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

        RemoveHeader(context, HeaderNames.Authorization);
        // Set, never appended to: not even a route's own transform may have put a value there before us.
        RemoveHeader(context, SubjectHeader);
        RemoveHeader(context, JtiHeader);
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
}
