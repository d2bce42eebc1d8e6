using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// The revocation list in a local revoked.json (the folder the local proxy polls). Updates go
/// through <see cref="RevocationFile.Update"/>: a lock file, then an atomic rename, so concurrent
/// writers (this process or rpctl) never lose an entry and readers never see a torn file.
/// </summary>
internal sealed class LocalRevocationStore(JobsManagerOptions options) : IRevocationStore
{
    public string FilePath { get; } = Path.Combine(options.RevokedDirectory, RevocationFile.FileName);

    public string Location => FilePath;

    public Task<RevocationSnapshot> ReadAsync(CancellationToken cancellationToken) =>
        Task.Run(() => Snapshot(RevocationFile.Read(FilePath)), cancellationToken);

    // The file lock blocks a thread; keep it off the request threads.
    public Task<RevocationSnapshot> UpdateAsync(Func<RevocationList, RevocationList> change, CancellationToken cancellationToken) =>
        Task.Run(() => Snapshot(RevocationFile.Update(FilePath, change)), cancellationToken);

    private static RevocationSnapshot Snapshot(RevocationList list) => new(list, list.Serialize().LongLength);
}
