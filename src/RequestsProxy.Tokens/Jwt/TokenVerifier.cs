using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Verifies a compact HS256 JWS in the exact order of DESIGN §4 without allocating and without
/// throwing. Claims are parsed before the signature is checked, but no decision rests on them
/// until it has.
/// </summary>
public sealed class TokenVerifier
{
    /// <summary>Bytes of workspace <see cref="Verify"/> needs: the decoded header and payload and the claim values.</summary>
    public const int WorkspaceSize = TokenDefaults.MaxTokenLength * 2;

    private const int SignatureLength = 32;
    private const int EncodedSignatureLength = 43;
    private const int MaxJsonDepth = 64;

    private static readonly SearchValues<char> Base64UrlAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = MaxJsonDepth,
    };

    private readonly IKeyRingSource _keys;
    private readonly IRevocationSource _revocations;
    private readonly TimeProvider _time;
    private readonly byte[] _audience;
    private readonly byte[] _issuer;
    private readonly double _leewaySeconds;
    private readonly ParsedHeader?[] _headers = new ParsedHeader?[4];
    private int _nextHeaderSlot;

    public TokenVerifier(IKeyRingSource keys, IRevocationSource revocations, TokenValidationOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Leeway, TimeSpan.Zero);
        _keys = keys;
        _revocations = revocations;
        _time = time;
        _audience = Encoding.UTF8.GetBytes(options.Audience);
        _issuer = Encoding.UTF8.GetBytes(options.Issuer);
        _leewaySeconds = options.Leeway.TotalSeconds;
        Options = options;
    }

    public TokenValidationOptions Options { get; }

    internal double NowSeconds => _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>
    /// Runs every check of DESIGN §4 on <paramref name="token"/>. On success <paramref name="view"/>
    /// holds the claims as spans over <paramref name="workspace"/> (at least <see cref="WorkspaceSize"/> bytes).
    /// </summary>
    [SkipLocalsInit]
    public TokenFailure Verify(ReadOnlySpan<char> token, Span<byte> workspace, out TokenView view)
    {
        view = default;
        if (workspace.Length < WorkspaceSize)
        {
            throw new ArgumentException($"the workspace must hold at least {WorkspaceSize} bytes", nameof(workspace));
        }

        // 1. Structure, base64url, JSON, duplicates, claim types.
        if (token.IsEmpty || token.Length > TokenDefaults.MaxTokenLength)
        {
            return TokenFailure.Malformed;
        }

        var dot1 = token.IndexOf('.');
        if (dot1 <= 0)
        {
            return TokenFailure.Malformed;
        }

        var dot2 = token[(dot1 + 1)..].IndexOf('.') + dot1 + 1;
        if (dot2 <= dot1 + 1)
        {
            return TokenFailure.Malformed;
        }

        var headerText = token[..dot1];
        var payloadText = token[(dot1 + 1)..dot2];
        var signatureText = token[(dot2 + 1)..];

        // A third dot, '=', whitespace or any other character outside the alphabet is malformed here.
        if (headerText.ContainsAnyExcept(Base64UrlAlphabet) || payloadText.ContainsAnyExcept(Base64UrlAlphabet) ||
            signatureText.ContainsAnyExcept(Base64UrlAlphabet) ||
            !IsCanonical(headerText) || !IsCanonical(payloadText))
        {
            return TokenFailure.Malformed;
        }

        var decoded = workspace[..TokenDefaults.MaxTokenLength];
        var values = workspace[TokenDefaults.MaxTokenLength..];
        if (!TryDecode(payloadText, decoded, out var payloadLength))
        {
            return TokenFailure.Malformed;
        }

        // JSON is UTF-8 (RFC 8259); the reader checks encodings only of what it transcodes.
        var payloadJson = decoded[..payloadLength];
        if (!Utf8.IsValid(payloadJson))
        {
            return TokenFailure.Malformed;
        }

        // Every token of a kid has the same header: a header seen before is not decoded and parsed again.
        var header = FindHeader(headerText);
        var headerJson = Span<byte>.Empty;
        if (header is null)
        {
            if (!TryDecode(headerText, decoded[payloadLength..], out var headerLength))
            {
                return TokenFailure.Malformed;
            }

            headerJson = decoded.Slice(payloadLength, headerLength);
            if (!Utf8.IsValid(headerJson))
            {
                return TokenFailure.Malformed;
            }
        }

        var maxMembers = Math.Max(headerJson.Length, payloadLength);
        Span<byte> names = stackalloc byte[maxMembers];
        Span<int> entries = stackalloc int[maxMembers + 2];
        Span<int> frames = stackalloc int[(MaxJsonDepth + 2) * 2];
        var tracker = new JsonMemberTracker(names, entries, frames);

        var valuesUsed = 0;
        HeaderFacts headerFacts = default;
        ClaimFacts claims = default;
        if (header is null)
        {
            if (!TryParseObject(headerJson, isHeader: true, ref tracker, values, ref valuesUsed, ref headerFacts, ref claims))
            {
                return TokenFailure.Malformed;
            }

            header = RememberHeader(headerText, headerFacts, values.Slice(headerFacts.KidOffset, headerFacts.KidLength));
            tracker.Reset();
        }

        if (!TryParseObject(payloadJson, isHeader: false, ref tracker, values, ref valuesUsed, ref headerFacts, ref claims) ||
            !(claims.HasSub && claims.HasJti && claims.HasIss && claims.HasAud && claims.HasExp && claims.SubLength > 0 && claims.JtiLength > 0))
        {
            return TokenFailure.Malformed;
        }

        // 2. Algorithm.
        if (!header.AlgorithmIsHs256)
        {
            return TokenFailure.UnsupportedAlg;
        }

        // 3. Key id, looked up in the in-memory ring only; unknown kids of the right form trigger a rate-limited re-read.
        if (header.Kid is not { } kid)
        {
            return TokenFailure.UnknownKid;
        }

        var ring = _keys.Current;
        SigningKey? key = null;
        if (ring is null || !ring.TryGetKey(kid, out key))
        {
            ring = _keys.RefreshForUnknownKid();
            if (ring is null || !ring.TryGetKey(kid, out key))
            {
                return TokenFailure.UnknownKid;
            }
        }

        // 4. Signature, compared in constant time. Its length is judged only here.
        if (signatureText.Length != EncodedSignatureLength || !IsCanonical(signatureText))
        {
            return TokenFailure.BadSignature;
        }

        Span<byte> signature = stackalloc byte[SignatureLength];
        Span<byte> expected = stackalloc byte[SignatureLength];
        if (!TryDecode(signatureText, signature, out var signatureLength) || signatureLength != SignatureLength)
        {
            return TokenFailure.BadSignature;
        }

        Span<byte> signingInput = stackalloc byte[dot2];
        if (Ascii.FromUtf16(token[..dot2], signingInput, out _) != OperationStatus.Done)
        {
            return TokenFailure.Malformed;
        }

        key.Sign(signingInput, expected);
        if (!CryptographicOperations.FixedTimeEquals(signature, expected))
        {
            return TokenFailure.BadSignature;
        }

        // 5. Lifetime.
        var now = NowSeconds;
        var lifetime = CheckLifetime(now, claims.Exp, claims.HasNbf ? claims.Nbf : null);
        if (lifetime != TokenFailure.None)
        {
            return lifetime;
        }

        // 6. Audience and issuer.
        if (!claims.AudienceMatches)
        {
            return TokenFailure.WrongAudience;
        }

        if (!claims.IssuerMatches)
        {
            return TokenFailure.WrongIssuer;
        }

        // 7. Revocation.
        var jti = values.Slice(claims.JtiOffset, claims.JtiLength);
        if (IsRevoked(jti))
        {
            return TokenFailure.Revoked;
        }

        view = new TokenView(
            values.Slice(claims.SubOffset, claims.SubLength),
            jti,
            values.Slice(claims.ScopeOffset, claims.ScopeLength),
            header.KidUtf8,
            claims.Exp,
            claims.HasNbf ? claims.Nbf : null,
            claims.HasIat ? claims.Iat : null,
            ring.Generation);
        return TokenFailure.None;
    }

    private ParsedHeader? FindHeader(ReadOnlySpan<char> headerText)
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

    /// <summary>Keeps a structurally valid header for the next tokens (a few slots, replaced in turn: one per live kid is plenty).</summary>
    private ParsedHeader RememberHeader(ReadOnlySpan<char> headerText, in HeaderFacts facts, ReadOnlySpan<byte> kidUtf8)
    {
        string? kid = null;
        if (facts.HasKid && kidUtf8.Length <= 32 && Utf8.IsValid(kidUtf8))
        {
            var text = Encoding.UTF8.GetString(kidUtf8);
            kid = KeyRingRules.IsKid(text) ? text : null;
        }

        var header = new ParsedHeader(headerText.ToString(), facts.AlgorithmIsHs256, kid, kidUtf8.ToArray());
        var slot = (int)((uint)Interlocked.Increment(ref _nextHeaderSlot) % (uint)_headers.Length);
        Volatile.Write(ref _headers[slot], header);
        return header;
    }

    /// <summary>exp/nbf against the clock with leeway: expired when now ≥ exp + leeway, not yet valid when now &lt; nbf − leeway.</summary>
    internal TokenFailure CheckLifetime(double now, double exp, double? nbf)
    {
        if (now >= exp + _leewaySeconds)
        {
            return TokenFailure.Expired;
        }

        if (nbf is { } notBefore && now < notBefore - _leewaySeconds)
        {
            return TokenFailure.NotYetValid;
        }

        return TokenFailure.None;
    }

    [SkipLocalsInit]
    private bool IsRevoked(ReadOnlySpan<byte> jtiUtf8)
    {
        var revoked = _revocations.Current;
        if (revoked.Count == 0)
        {
            return false;
        }

        Span<char> jti = stackalloc char[jtiUtf8.Length];
        var length = Encoding.UTF8.GetChars(jtiUtf8, jti);
        return revoked.Contains(jti[..length]);
    }

    /// <summary>Unpadded base64url whose unused trailing bits are zero, so one token has exactly one spelling.</summary>
    private static bool IsCanonical(ReadOnlySpan<char> text)
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

    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };

    private static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        var status = Base64Url.DecodeFromChars(text, destination, out var consumed, out written);
        return status == OperationStatus.Done && consumed == text.Length;
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

    /// <summary>What steps 2 and 3 need from a header; <see cref="Kid"/> is null when it cannot name a ring key.</summary>
    private sealed record ParsedHeader(string Text, bool AlgorithmIsHs256, string? Kid, byte[] KidUtf8);

    private struct HeaderFacts
    {
        public bool AlgorithmIsHs256;
        public bool HasKid;
        public int KidOffset;
        public int KidLength;
    }

    private struct ClaimFacts
    {
        public bool HasSub;
        public bool HasJti;
        public bool HasIss;
        public bool HasAud;
        public bool HasExp;
        public bool HasNbf;
        public bool HasIat;
        public bool AudienceMatches;
        public bool IssuerMatches;
        public int SubOffset;
        public int SubLength;
        public int JtiOffset;
        public int JtiLength;
        public int ScopeOffset;
        public int ScopeLength;
        public double Exp;
        public double Nbf;
        public double Iat;
    }
}
