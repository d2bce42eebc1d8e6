namespace RequestsProxy.Tokens.Admin;

/// <summary>
/// The nonces accepted within the window, each kept until its timestamp has left the window (a
/// replay after that fails the timestamp check anyway), at most <see cref="Capacity"/> at once.
/// Full, it refuses instead of forgetting: forgetting a live nonce would let its request be replayed.
/// </summary>
internal sealed class AdminNonceCache(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _expiries = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, long> _byExpiry = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "at least one nonce must fit");

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _expiries.Count;
            }
        }
    }

    /// <summary>Remembers <paramref name="nonce"/> until <paramref name="expiresAt"/> (Unix seconds).</summary>
    public AdminSignatureFailure TryRemember(string nonce, long expiresAt, long nowSeconds)
    {
        lock (_lock)
        {
            while (_byExpiry.TryPeek(out var oldest, out var expiry) && expiry < nowSeconds)
            {
                _byExpiry.Dequeue();
                if (_expiries.TryGetValue(oldest, out var current) && current == expiry)
                {
                    _expiries.Remove(oldest);
                }
            }

            if (_expiries.ContainsKey(nonce))
            {
                return AdminSignatureFailure.Replayed;
            }

            if (_expiries.Count >= Capacity)
            {
                return AdminSignatureFailure.ReplayCacheFull;
            }

            _expiries[nonce] = expiresAt;
            _byExpiry.Enqueue(nonce, expiresAt);
            return AdminSignatureFailure.None;
        }
    }
}
