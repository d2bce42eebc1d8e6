using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A document in memory, for the core's tests; it survives a "restart" when the test hands it to the next manager.</summary>
internal class InMemoryDocumentStore<T>(IDocumentCodec<T> codec) : IDocumentStore<T> where T : class
{
    private readonly Lock _lock = new();

    public T Document { get; private set; } = codec.Empty;

    public bool Fail { get; set; }

    /// <summary>Set to refuse a write past this many bytes, as the ConfigMap store does (the API server's limit less the other keys).</summary>
    public long? MaxBytes { get; set; }

    public int Writes { get; private set; }

    public string Location => "memory";

    public Task<DocumentSnapshot<T>> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(Snapshot());
        }
    }

    public Task<DocumentSnapshot<T>> UpdateAsync(Func<T, T> change, CancellationToken cancellationToken)
    {
        if (Fail)
        {
            throw new IOException($"{codec.Description} unavailable (test)");
        }

        lock (_lock)
        {
            var next = change(Document);
            if (!ReferenceEquals(next, Document))
            {
                if (MaxBytes is { } max && codec.Serialize(next).LongLength is var size && size > max)
                {
                    throw new DocumentTooLargeException(codec.Description, size, max, Location);
                }

                Document = next;
                Writes++;
            }

            return Task.FromResult(Snapshot());
        }
    }

    private DocumentSnapshot<T> Snapshot() => new(Document, codec.Serialize(Document).LongLength);
}
