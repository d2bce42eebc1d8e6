namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>Every test class shares one cluster, started once: the classes run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "real cluster";
}
