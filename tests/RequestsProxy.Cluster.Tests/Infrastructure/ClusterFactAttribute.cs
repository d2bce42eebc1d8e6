namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>A test on the real cluster: skipped with the loud reason of <see cref="ClusterAvailability"/>.</summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (ClusterAvailability.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
