using Yarp.ReverseProxy.Transforms.Builder;

namespace RequestsProxy.Server.RateLimiting;

/// <summary>Fails the route configuration load on a bad limit in a route's metadata, like our other route rules.</summary>
internal sealed class JobLimitRouteValidator(JobRateLimiter limiter) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
        var errors = new List<string>();
        JobLimitRules.ForRoute(context.Route, limiter.Defaults, errors);
        foreach (var error in errors)
        {
            context.Errors.Add(new InvalidOperationException(error));
        }
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
    }
}
