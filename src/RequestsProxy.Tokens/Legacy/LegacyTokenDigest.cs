using System.Buffers.Text;
using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>
/// The name of a legacy token in the mounted list: unpadded base64url of the SHA-256 of its
/// ASCII bytes (43 characters). The list never holds a token, so reading the ConfigMap (or a
/// proxy's memory) gives nobody a credential.
/// </summary>
public static class LegacyTokenDigest
{
    public const int Length = 43;

    /// <summary>Longer tokens are never registered (the admin endpoint's limit, as for JWTs).</summary>
    public const int MaxTokenLength = 4096;

    public static string Compute(string token) => Compute(token.AsSpan()) ?? throw new ArgumentException("the token is empty, too long or not printable ASCII", nameof(token));

    /// <summary>The digest, or null for what can never be a legacy token (empty, too long, not printable ASCII).</summary>
    public static string? Compute(ReadOnlySpan<char> token)
    {
        Span<char> digest = stackalloc char[Length];
        return TryCompute(token, digest) ? new string(digest) : null;
    }

    /// <summary>Writes the digest into <paramref name="destination"/> (≥ <see cref="Length"/> characters) without allocating.</summary>
    public static bool TryCompute(ReadOnlySpan<char> token, Span<char> destination)
    {
        if (token.IsEmpty || token.Length > MaxTokenLength || destination.Length < Length)
        {
            return false;
        }

        Span<byte> ascii = stackalloc byte[MaxTokenLength];
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c is <= ' ' or > '~')
            {
                return false;
            }

            ascii[i] = (byte)c;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(ascii[..token.Length], hash);
        return Base64Url.EncodeToChars(hash, destination) == Length;
    }

    /// <summary>True for a well-formed digest (43 base64url characters).</summary>
    public static bool IsValid(ReadOnlySpan<char> digest)
    {
        if (digest.Length != Length)
        {
            return false;
        }

        foreach (var c in digest)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
