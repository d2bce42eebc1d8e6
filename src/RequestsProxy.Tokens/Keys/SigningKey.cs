using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Keys;

/// <summary>One HMAC-SHA256 key of the ring. The key bytes never leave this type except to sign.</summary>
public sealed class SigningKey
{
    public const int MinimumLength = 32;

    private readonly byte[] _key;

    // The absorbed HMAC pads (see OpenSslSha256); null where that path is unavailable.
    private readonly byte[]? _inner;
    private readonly byte[]? _outer;

    // Otherwise the platform's HMAC: creating a context per call costs more than hashing a token, so one per thread.
    private readonly ThreadLocal<IncrementalHash> _hmac;

    internal SigningKey(string kid, byte[] key, bool allowMidstate = true)
    {
        Kid = kid;
        _key = key;
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key));
        if (allowMidstate && OpenSslSha256.IsAvailable)
        {
            (_inner, _outer) = OpenSslSha256.Pads(key);
        }
    }

    /// <summary>Whether signing uses the absorbed-pad fast path (for benchmarks and tests).</summary>
    internal bool UsesMidstate => _inner is not null;

    public string Kid { get; }

    public int Length => _key.Length;

    internal bool SameKeyAs(ReadOnlySpan<byte> other) => _key.AsSpan().SequenceEqual(other);

    /// <summary>HMAC-SHA256 of <paramref name="data"/> into <paramref name="destination"/> (32 bytes).</summary>
    public void Sign(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (_inner is not null)
        {
            OpenSslSha256.Hmac(_inner, _outer, data, destination);
            return;
        }

        var hmac = _hmac.Value!;
        hmac.AppendData(data);
        hmac.GetHashAndReset(destination);
    }
}
