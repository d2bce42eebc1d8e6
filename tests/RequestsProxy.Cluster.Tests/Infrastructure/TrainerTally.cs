namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>One tally line of the workload's trainer (tests/RequestsProxy.Cluster.Workload).</summary>
public sealed record TrainerTally(
    string Job,
    long Requests,
    long Ok,
    long Unauthorized,
    long ConnectionErrors,
    long Other,
    IReadOnlyDictionary<string, long> OkByKid);
