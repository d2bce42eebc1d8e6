using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Where one shared document lives (the revocation list, the job ledger): a ConfigMap key or a
/// local file. Every change is a read → modify → write applied to the latest stored content
/// (again, on a concurrent write), so no writer's change is lost; content that does not parse is
/// never overwritten (that would forget tokens still to revoke).
/// </summary>
internal interface IDocumentStore<T> where T : class
{
    /// <summary>Where the document lives, for logs and docs.</summary>
    string Location { get; }

    Task<DocumentSnapshot<T>> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="change"/> to the current document (again, on a concurrent write) and stores the result.</summary>
    Task<DocumentSnapshot<T>> UpdateAsync(Func<T, T> change, CancellationToken cancellationToken);
}
