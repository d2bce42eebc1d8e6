using Yarp.ReverseProxy.Transforms.Builder;

namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// Hooks our route rules into YARP: metadata errors fail the configuration load (so a bad
/// routes file stops the proxy at start), and every route gets the upstream identity transform.
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

    public void Apply(TransformBuilderContext context) => context.RequestTransforms.Add(UpstreamRequestTransform.Instance);
}
