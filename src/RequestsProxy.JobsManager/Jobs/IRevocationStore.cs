using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The shared revocation list (the ConfigMap, or a local revoked.json). Every change is a
/// read → modify → write that never loses a concurrent writer's entries.
/// </summary>
internal interface IRevocationStore
{
    /// <summary>Where the list lives, for logs and docs.</summary>
    string Location { get; }

    Task<RevocationSnapshot> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="change"/> to the current list (again, on a concurrent write) and stores the result.</summary>
    Task<RevocationSnapshot> UpdateAsync(Func<RevocationList, RevocationList> change, CancellationToken cancellationToken);
}
