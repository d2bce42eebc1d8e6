using System.Text.Json;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Reads a decoded JOSE header or JWT payload without allocating: structure, duplicate member
/// names at any depth (through a <see cref="JsonMemberTracker"/>), the claim types of DESIGN §4,
/// aud and iss compared with the expected values, and string claims copied (unescaped) into a
/// caller's values workspace. It decides nothing: the verifier does, after the signature.
/// </summary>
internal sealed class JwtClaimReader(byte[] audience, byte[] issuer)
{
    /// <summary>Deeper JSON is malformed (the tracker's frames are sized for it).</summary>
    public const int MaxDepth = 64;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = MaxDepth,
    };

    private readonly byte[] _audience = audience;
    private readonly byte[] _issuer = issuer;

    /// <summary>alg, kid and typ of a header; false when it is not a well-formed header (crit, a typ other than JWT, a duplicate).</summary>
    public bool TryReadHeader(ReadOnlySpan<byte> json, ref JsonMemberTracker tracker, Span<byte> values, ref int valuesUsed, ref HeaderFacts header)
    {
        ClaimFacts none = default;
        return TryParseObject(json, isHeader: true, ref tracker, values, ref valuesUsed, ref header, ref none);
    }

    /// <summary>The registered claims of a payload; false when it is not a well-formed payload (a claim of the wrong type, a duplicate).</summary>
    public bool TryReadPayload(ReadOnlySpan<byte> json, ref JsonMemberTracker tracker, Span<byte> values, ref int valuesUsed, ref ClaimFacts claims)
    {
        HeaderFacts none = default;
        return TryParseObject(json, isHeader: false, ref tracker, values, ref valuesUsed, ref none, ref claims);
    }

    /// <summary>
    /// Walks one JSON object (header or payload): structure, duplicate names at any depth, and
    /// the top-level members handed to the header's or the payload's reader.
    /// </summary>
    private bool TryParseObject(ReadOnlySpan<byte> json, bool isHeader, ref JsonMemberTracker tracker, Span<byte> values, ref int valuesUsed, ref HeaderFacts header, ref ClaimFacts claims)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject || !tracker.Push())
            {
                return false;
            }

            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        if (!tracker.Push())
                        {
                            return false;
                        }

                        break;
                    case JsonTokenType.EndObject:
                        tracker.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        if (!tracker.TryAdd(ref reader, out var name))
                        {
                            return false;
                        }

                        if (reader.CurrentDepth == 1 && !(isHeader
                                ? TryReadHeaderMember(name, ref reader, ref tracker, values, ref valuesUsed, ref header)
                                : TryReadClaim(name, ref reader, values, ref valuesUsed, ref claims)))
                        {
                            return false;
                        }

                        break;
                    default:
                        break;
                }
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Unescaping a lone surrogate (\uD800) throws InvalidOperationException.
            return false;
        }
    }

    private static bool TryReadHeaderMember(scoped ReadOnlySpan<byte> name, ref Utf8JsonReader reader, ref JsonMemberTracker tracker, Span<byte> values, ref int valuesUsed, ref HeaderFacts facts)
    {
        if (name.SequenceEqual("crit"u8))
        {
            return false;
        }

        var isAlg = name.SequenceEqual("alg"u8);
        var isKid = !isAlg && name.SequenceEqual("kid"u8);
        var isTyp = !isAlg && !isKid && name.SequenceEqual("typ"u8);
        if (!isAlg && !isKid && !isTyp)
        {
            return true;
        }

        reader.Read();
        if (isTyp)
        {
            return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("JWT"u8);
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            if (isAlg)
            {
                facts.AlgorithmIsHs256 = reader.ValueTextEquals("HS256"u8);
                return true;
            }

            if (!TryCopyString(ref reader, values, ref valuesUsed, out facts.KidOffset, out facts.KidLength))
            {
                return false;
            }

            facts.HasKid = facts.KidLength > 0;
            return true;
        }

        // A non-string alg is unsupported and a non-string kid unknown; a nested object still gets its duplicate check.
        return reader.TokenType != JsonTokenType.StartObject || tracker.Push();
    }

    private bool TryReadClaim(scoped ReadOnlySpan<byte> name, ref Utf8JsonReader reader, Span<byte> values, ref int valuesUsed, ref ClaimFacts claims)
    {
        switch (name.Length)
        {
            case 3 when name.SequenceEqual("sub"u8):
                reader.Read();
                claims.HasSub = true;
                return TryCopyString(ref reader, values, ref valuesUsed, out claims.SubOffset, out claims.SubLength);
            case 3 when name.SequenceEqual("jti"u8):
                reader.Read();
                claims.HasJti = true;
                return TryCopyString(ref reader, values, ref valuesUsed, out claims.JtiOffset, out claims.JtiLength);
            case 5 when name.SequenceEqual("scope"u8):
                reader.Read();
                return TryCopyString(ref reader, values, ref valuesUsed, out claims.ScopeOffset, out claims.ScopeLength);
            case 3 when name.SequenceEqual("iss"u8):
                reader.Read();
                claims.HasIss = true;
                claims.IssuerMatches = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_issuer);
                return reader.TokenType == JsonTokenType.String;
            case 3 when name.SequenceEqual("aud"u8):
                reader.Read();
                claims.HasAud = true;
                return TryReadAudience(ref reader, ref claims);
            case 3 when name.SequenceEqual("exp"u8):
                claims.HasExp = true;
                return TryReadNumericDate(ref reader, out claims.Exp);
            case 3 when name.SequenceEqual("nbf"u8):
                claims.HasNbf = true;
                return TryReadNumericDate(ref reader, out claims.Nbf);
            case 3 when name.SequenceEqual("iat"u8):
                claims.HasIat = true;
                return TryReadNumericDate(ref reader, out claims.Iat);
            default:
                return true;
        }
    }

    private bool TryReadAudience(ref Utf8JsonReader reader, ref ClaimFacts claims)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            claims.AudienceMatches = reader.ValueTextEquals(_audience);
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            claims.AudienceMatches |= reader.ValueTextEquals(_audience);
        }

        return true;
    }

    private static bool TryReadNumericDate(ref Utf8JsonReader reader, out double value)
    {
        value = 0;
        reader.Read();
        if (reader.TokenType != JsonTokenType.Number)
        {
            return false;
        }

        // NumericDates are almost always integers, and integer parsing is several times cheaper.
        if (reader.TryGetInt64(out var seconds))
        {
            value = seconds;
            return true;
        }

        if (reader.TryGetDouble(out value))
        {
            return true;
        }

        // A valid JSON number beyond double's range (1e400): the far future, or the far past.
        value = reader.ValueSpan[0] == (byte)'-' ? double.MinValue : double.MaxValue;
        return true;
    }

    private static bool TryCopyString(ref Utf8JsonReader reader, Span<byte> values, ref int valuesUsed, out int offset, out int length)
    {
        offset = valuesUsed;
        length = 0;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        var free = values[valuesUsed..];
        if (reader.ValueIsEscaped)
        {
            if (reader.ValueSpan.Length > free.Length)
            {
                return false;
            }

            length = reader.CopyString(free);
        }
        else
        {
            if (!reader.ValueSpan.TryCopyTo(free))
            {
                return false;
            }

            length = reader.ValueSpan.Length;
        }

        valuesUsed += length;
        return true;
    }
}
