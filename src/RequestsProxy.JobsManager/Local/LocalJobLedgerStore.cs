using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// The job ledger in <c>$JOBS_MANAGER_STATE_DIR/jobs.json</c>: read → change → write under a lock
/// file, written with <see cref="AtomicFile"/> (temp file, fsync, rename), so a crash leaves the
/// old or the new ledger, never a torn one. A file that does not parse is never overwritten.
/// </summary>
internal sealed class LocalJobLedgerStore(JobsManagerOptions options) : IJobLedgerStore
{
    public const string FileName = "jobs.json";

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public string FilePath { get; } = Path.Combine(options.StateDirectory, FileName);

    public string Location => FilePath;

    public Task<JobLedgerSnapshot> ReadAsync(CancellationToken cancellationToken) => Task.Run(Read, cancellationToken);

    // The file lock blocks a thread; keep it off the request threads.
    public Task<JobLedgerSnapshot> UpdateAsync(Func<JobLedgerDocument, JobLedgerDocument> change, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var fileLock = FileLock.Acquire(FilePath, LockTimeout);
            var current = Read();
            var next = change(current.Document);
            if (ReferenceEquals(next, current.Document) && File.Exists(FilePath))
            {
                return current;
            }

            var bytes = next.Serialize();
            AtomicFile.Write(FilePath, bytes, AtomicFile.Private);

            return new JobLedgerSnapshot(next, bytes.LongLength);
        }, cancellationToken);

    private JobLedgerSnapshot Read()
    {
        if (!File.Exists(FilePath))
        {
            return new JobLedgerSnapshot(JobLedgerDocument.Empty, 0);
        }

        var bytes = File.ReadAllBytes(FilePath);
        if (!JobLedgerDocument.TryParse(bytes, out var document, out var error))
        {
            throw new InvalidDataException($"the job ledger '{FilePath}' is invalid: {error}");
        }

        return new JobLedgerSnapshot(document, bytes.LongLength);
    }
}
