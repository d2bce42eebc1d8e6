using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// Hooks our route rules into YARP: metadata errors fail the configuration load (so a bad
/// routes file stops the proxy at start), and every route gets the upstream identity transform and
/// the forwarding headers the proxy can vouch for: <c>X-Forwarded-For</c> (the connection's peer
/// address) and <c>X-Forwarded-Proto</c> (the scheme it spoke), both set, not appended to. YARP's
/// defaults would also send <c>X-Forwarded-Host</c> from the pod's own <c>Host</c> header (A9): not
/// sent, nor <c>X-Forwarded-Prefix</c>. A route that configures its own X-Forwarded or Forwarded
/// transform keeps it (the operator's choice), on a request already cleaned of the pod's values.
/// </summary>
internal sealed class ProxyTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
        foreach (var error in RouteRules.Validate(context.Route))
        {
            context.Errors.Add(new InvalidOperationException(error));
        }
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        if (context.UseDefaultForwarders != false)
        {
            context.UseDefaultForwarders = false;
            context.AddXForwardedFor(action: ForwardedTransformActions.Set);
            context.AddXForwardedProto(action: ForwardedTransformActions.Set);
        }

        context.RequestTransforms.Add(UpstreamRequestTransform.Instance);
    }
}
