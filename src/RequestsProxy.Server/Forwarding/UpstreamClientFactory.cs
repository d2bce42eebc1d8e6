using RequestsProxy.Server.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace RequestsProxy.Server.Forwarding;

/// <summary>YARP's client with our connect timeout, and without per-request trace header injection.</summary>
internal sealed class UpstreamClientFactory(ProxySettings settings, ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = settings.UpstreamConnectTimeout;
        // The proxy is an authentication hop inside the namespace, not a traced service:
        // propagating trace headers costs on every request and tells upstream nothing.
        handler.ActivityHeadersPropagator = null;
    }
}
