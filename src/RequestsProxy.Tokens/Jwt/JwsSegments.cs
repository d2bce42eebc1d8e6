namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// The three segments of a compact JWS (<c>header.payload.signature</c>), split without
/// allocating. Only <see cref="TrySplit"/> makes one: every segment is in the base64url alphabet,
/// and the header and payload are canonical. The signature's length and spelling are judged by
/// the signature check (DESIGN §4: a wrong signature is bad_signature, not malformed).
/// </summary>
internal readonly ref struct JwsSegments
{
    private JwsSegments(ReadOnlySpan<char> token, int dot1, int dot2)
    {
        Header = token[..dot1];
        Payload = token[(dot1 + 1)..dot2];
        Signature = token[(dot2 + 1)..];
        SigningInput = token[..dot2];
    }

    public ReadOnlySpan<char> Header { get; }

    public ReadOnlySpan<char> Payload { get; }

    public ReadOnlySpan<char> Signature { get; }

    /// <summary><c>header.payload</c>: what the signature signs.</summary>
    public ReadOnlySpan<char> SigningInput { get; }

    /// <summary>Splits <paramref name="token"/> (at most <paramref name="maxLength"/> characters); false when it is malformed.</summary>
    public static bool TrySplit(ReadOnlySpan<char> token, int maxLength, out JwsSegments segments)
    {
        segments = default;
        if (token.IsEmpty || token.Length > maxLength)
        {
            return false;
        }

        var dot1 = token.IndexOf('.');
        if (dot1 <= 0)
        {
            return false;
        }

        var dot2 = token[(dot1 + 1)..].IndexOf('.') + dot1 + 1;
        if (dot2 <= dot1 + 1)
        {
            return false;
        }

        var split = new JwsSegments(token, dot1, dot2);

        // A third dot, '=', whitespace or any other character outside the alphabet is malformed here.
        if (split.Header.ContainsAnyExcept(CanonicalBase64Url.Alphabet) || split.Payload.ContainsAnyExcept(CanonicalBase64Url.Alphabet) ||
            split.Signature.ContainsAnyExcept(CanonicalBase64Url.Alphabet) ||
            !CanonicalBase64Url.IsCanonical(split.Header) || !CanonicalBase64Url.IsCanonical(split.Payload))
        {
            return false;
        }

        segments = split;
        return true;
    }
}
