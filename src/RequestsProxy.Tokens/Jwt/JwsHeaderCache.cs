using System.Text;
using System.Text.Unicode;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// The last few headers the verifier parsed, by their base64url text: every token of a kid has
/// the same header, so a header seen before is neither decoded nor parsed again. A few slots,
/// replaced in turn, lock-free (one per live kid is plenty).
/// </summary>
internal sealed class JwsHeaderCache
{
    /// <summary>A longer kid is not even decoded to text: no ring kid comes near it (<see cref="KeyRingRules.IsKid"/> allows 20 characters).</summary>
    private const int MaxKidBytes = 32;

    private readonly ParsedHeader?[] _headers = new ParsedHeader?[4];
    private int _nextSlot;

    public ParsedHeader? Find(ReadOnlySpan<char> headerText)
    {
        foreach (var header in _headers)
        {
            if (header is not null && headerText.SequenceEqual(header.Text))
            {
                return header;
            }
        }

        return null;
    }

    /// <summary>Keeps a structurally valid header for the next tokens.</summary>
    public ParsedHeader Remember(ReadOnlySpan<char> headerText, in HeaderFacts facts, ReadOnlySpan<byte> kidUtf8)
    {
        string? kid = null;
        if (facts.HasKid && kidUtf8.Length <= MaxKidBytes && Utf8.IsValid(kidUtf8))
        {
            var text = Encoding.UTF8.GetString(kidUtf8);
            kid = KeyRingRules.IsKid(text) ? text : null;
        }

        var header = new ParsedHeader(headerText.ToString(), facts.AlgorithmIsHs256, kid, kidUtf8.ToArray());
        var slot = (int)((uint)Interlocked.Increment(ref _nextSlot) % (uint)_headers.Length);
        Volatile.Write(ref _headers[slot], header);
        return header;
    }
}
