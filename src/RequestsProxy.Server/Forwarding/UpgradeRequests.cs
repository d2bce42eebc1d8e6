using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// Requests that ask to leave HTTP: any <c>Upgrade</c> header (WebSocket, h2c, SPDY, …) or a
/// <c>Connection: upgrade</c> token on HTTP/1.x, an HTTP/2 or HTTP/3 extended CONNECT, or CONNECT.
/// YARP relays a WebSocket handshake as GET whatever the pod's method was, so upgrades are refused
/// unless the route opts in — and then only as the GET the upstream will see.
/// </summary>
internal static class UpgradeRequests
{
    public static bool IsUpgrade(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method)
            || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true }
            || context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true })
        {
            return true;
        }

        if (request.Headers.ContainsKey(HeaderNames.Upgrade))
        {
            return true;
        }

        foreach (var value in request.Headers.Connection)
        {
            if (value is not null && value.Contains("upgrade", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// YARP relays an upgrade as a GET handshake: only a GET keeps its method (the route matched it,
    /// so the route allows it). An extended CONNECT would reach the upstream as GET too: refused.
    /// </summary>
    public static bool KeepsMethod(HttpContext context) => HttpMethods.IsGet(context.Request.Method);
}
