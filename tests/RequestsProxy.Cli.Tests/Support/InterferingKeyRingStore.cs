using RequestsProxy.Cli.Keys;

namespace RequestsProxy.Cli.Tests.Support;

/// <summary>Lets another writer change the ring right before each of the first <paramref name="times"/> writes.</summary>
internal sealed class InterferingKeyRingStore(IKeyRingStore inner, Action interfere, int times) : IKeyRingStore
{
    private int _remaining = times;

    public string Location => inner.Location;

    public string Name => inner.Name;

    public string Kind => inner.Kind;

    public Task<KeyRingDocument?> ReadAsync(CancellationToken cancellationToken) => inner.ReadAsync(cancellationToken);

    public Task WriteAsync(KeyRingDocument document, bool create, CancellationToken cancellationToken)
    {
        if (_remaining > 0)
        {
            _remaining--;
            interfere();
        }

        return inner.WriteAsync(document, create, cancellationToken);
    }
}
