using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A fixed set of legacy replicas, none stateless.</summary>
internal sealed class StaticLegacyEndpoints(IReadOnlyList<Uri> urls) : ILegacyProxyEndpoints
{
    public Task<LegacyReplicas> ResolveAsync(CancellationToken cancellationToken) => Task.FromResult(new LegacyReplicas(urls, []));
}
