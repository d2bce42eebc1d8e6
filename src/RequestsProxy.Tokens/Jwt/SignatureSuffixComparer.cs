using System.Runtime.InteropServices;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Hashes a token by the last characters of its signature instead of the whole string: an HMAC
/// is already uniformly random, so eight of its characters spread the cache evenly at a fraction
/// of the cost of hashing ~500 characters. Flooding is not a concern: only tokens whose
/// signature verified are ever inserted. Equality still compares the whole token.
/// </summary>
internal sealed class SignatureSuffixComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<char>, string>
{
    public static readonly SignatureSuffixComparer Instance = new();

    private const int SuffixChars = 8;

    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    public int GetHashCode(string obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return GetHashCode(obj.AsSpan());
    }

    // The proxy looks tokens up straight from the Authorization header, without making a string.
    public int GetHashCode(ReadOnlySpan<char> alternate)
    {
        if (alternate.Length < SuffixChars)
        {
            return string.GetHashCode(alternate, StringComparison.Ordinal);
        }

        var tail = MemoryMarshal.Cast<char, long>(alternate[^SuffixChars..]);
        return HashCode.Combine(tail[0], tail[1], alternate.Length);
    }

    public bool Equals(ReadOnlySpan<char> alternate, string other) => alternate.SequenceEqual(other);

    public string Create(ReadOnlySpan<char> alternate) => alternate.ToString();
}
