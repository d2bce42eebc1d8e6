using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Keys;

/// <summary>One HMAC-SHA256 key of the ring. The key bytes never leave this type except to sign.</summary>
public sealed class SigningKey
{
    public const int MinimumLength = 32;

    private readonly byte[] _key;

    // Creating an HMAC context per call costs more than hashing a token; keep one per thread.
    private readonly ThreadLocal<IncrementalHash> _hmac;

    internal SigningKey(string kid, byte[] key)
    {
        Kid = kid;
        _key = key;
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key));
    }

    public string Kid { get; }

    public int Length => _key.Length;

    internal bool SameKeyAs(ReadOnlySpan<byte> other) => _key.AsSpan().SequenceEqual(other);

    /// <summary>HMAC-SHA256 of <paramref name="data"/> into <paramref name="destination"/> (32 bytes).</summary>
    public void Sign(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        var hmac = _hmac.Value!;
        hmac.AppendData(data);
        hmac.GetHashAndReset(destination);
    }
}
