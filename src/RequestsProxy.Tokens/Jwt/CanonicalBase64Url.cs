using System.Buffers;
using System.Buffers.Text;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Unpadded base64url with one spelling per value (RFC 7515 §2, and unused trailing bits zero),
/// so a token cannot be altered without changing what it decodes to.
/// </summary>
internal static class CanonicalBase64Url
{
    /// <summary>The alphabet: a '=', whitespace, a dot or any other character is outside it.</summary>
    public static readonly SearchValues<char> Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    /// <summary>Unpadded base64url whose unused trailing bits are zero (the alphabet is checked apart).</summary>
    public static bool IsCanonical(ReadOnlySpan<char> text)
    {
        var remainder = text.Length % 4;
        if (remainder == 1)
        {
            return false;
        }

        if (remainder == 0 || text.IsEmpty)
        {
            return true;
        }

        var last = SextetOf(text[^1]);
        return remainder == 2 ? (last & 0x0F) == 0 : (last & 0x03) == 0;
    }

    /// <summary>Decodes all of <paramref name="text"/> into <paramref name="destination"/>; false when any of it is not base64url or does not fit.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        var status = Base64Url.DecodeFromChars(text, destination, out var consumed, out written);
        return status == OperationStatus.Done && consumed == text.Length;
    }

    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };
}
