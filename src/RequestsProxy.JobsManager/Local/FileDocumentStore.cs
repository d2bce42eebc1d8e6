using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// A document in a local file through <see cref="DocumentFile"/> (lock file → read → atomic
/// rename), so concurrent writers (this process or rpctl) never lose a change and readers never
/// see a torn file. The file lock blocks a thread, so every call runs off the request threads.
/// </summary>
internal sealed class FileDocumentStore<T>(string filePath, IDocumentCodec<T> codec, UnixFileMode? mode = null) : IDocumentStore<T> where T : class
{
    public string FilePath { get; } = filePath;

    public string Location => FilePath;

    public Task<DocumentSnapshot<T>> ReadAsync(CancellationToken cancellationToken) =>
        Task.Run(() => DocumentFile.Read(FilePath, codec), cancellationToken);

    public Task<DocumentSnapshot<T>> UpdateAsync(Func<T, T> change, CancellationToken cancellationToken) =>
        Task.Run(() => DocumentFile.Update(FilePath, codec, change, mode), cancellationToken);
}
