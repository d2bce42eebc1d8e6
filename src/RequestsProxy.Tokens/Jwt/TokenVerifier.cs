using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Verifies a compact HS256 JWS in the exact order of DESIGN §4 without allocating and without
/// throwing. Claims are parsed before the signature is checked, but no decision rests on them
/// until it has. The parts: <see cref="JwsSegments"/> splits the token and checks its base64url
/// (<see cref="CanonicalBase64Url"/>), <see cref="JwsHeaderCache"/> remembers parsed headers,
/// <see cref="JwtClaimReader"/> reads the JSON; this type runs the steps and decides.
/// </summary>
public sealed class TokenVerifier
{
    /// <summary>Bytes of workspace <see cref="Verify"/> needs: the decoded header and payload and the claim values.</summary>
    public const int WorkspaceSize = TokenDefaults.MaxTokenLength * 2;

    private const int SignatureLength = 32;
    private const int EncodedSignatureLength = 43;

    private readonly IKeyRingSource _keys;
    private readonly IRevocationSource _revocations;
    private readonly TimeProvider _time;
    private readonly double _leewaySeconds;
    private readonly JwtClaimReader _reader;
    private readonly JwsHeaderCache _headers = new();

    public TokenVerifier(IKeyRingSource keys, IRevocationSource revocations, TokenValidationOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Leeway, TimeSpan.Zero);
        _keys = keys;
        _revocations = revocations;
        _time = time;
        _reader = new JwtClaimReader(Encoding.UTF8.GetBytes(options.Audience), Encoding.UTF8.GetBytes(options.Issuer));
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
        if (!JwsSegments.TrySplit(token, TokenDefaults.MaxTokenLength, out var jws))
        {
            return TokenFailure.Malformed;
        }

        var decoded = workspace[..TokenDefaults.MaxTokenLength];
        var values = workspace[TokenDefaults.MaxTokenLength..];
        if (!CanonicalBase64Url.TryDecode(jws.Payload, decoded, out var payloadLength))
        {
            return TokenFailure.Malformed;
        }

        // JSON is UTF-8 (RFC 8259); the reader checks encodings only of what it transcodes.
        var payloadJson = decoded[..payloadLength];
        if (!Utf8.IsValid(payloadJson))
        {
            return TokenFailure.Malformed;
        }

        var header = _headers.Find(jws.Header);
        var headerJson = Span<byte>.Empty;
        if (header is null)
        {
            if (!CanonicalBase64Url.TryDecode(jws.Header, decoded[payloadLength..], out var headerLength))
            {
                return TokenFailure.Malformed;
            }

            headerJson = decoded.Slice(payloadLength, headerLength);
            if (!Utf8.IsValid(headerJson))
            {
                return TokenFailure.Malformed;
            }
        }

        var longest = Math.Max(headerJson.Length, payloadLength);
        Span<byte> names = stackalloc byte[longest];
        Span<int> entries = stackalloc int[JsonMemberTracker.EntriesFor(longest)];
        Span<int> table = stackalloc int[JsonMemberTracker.TableFor(longest)];
        Span<int> frames = stackalloc int[JwtClaimReader.MaxDepth + 2];
        var tracker = new JsonMemberTracker(names, entries, table, frames);

        var valuesUsed = 0;
        if (header is null)
        {
            HeaderFacts headerFacts = default;
            if (!_reader.TryReadHeader(headerJson, ref tracker, values, ref valuesUsed, ref headerFacts))
            {
                return TokenFailure.Malformed;
            }

            header = _headers.Remember(jws.Header, headerFacts, values.Slice(headerFacts.KidOffset, headerFacts.KidLength));
            tracker.Reset();
        }

        ClaimFacts claims = default;
        if (!_reader.TryReadPayload(payloadJson, ref tracker, values, ref valuesUsed, ref claims) || !claims.IsComplete)
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
        if (jws.Signature.Length != EncodedSignatureLength || !CanonicalBase64Url.IsCanonical(jws.Signature))
        {
            return TokenFailure.BadSignature;
        }

        Span<byte> signature = stackalloc byte[SignatureLength];
        Span<byte> expected = stackalloc byte[SignatureLength];
        if (!CanonicalBase64Url.TryDecode(jws.Signature, signature, out var signatureLength) || signatureLength != SignatureLength)
        {
            return TokenFailure.BadSignature;
        }

        Span<byte> signingInput = stackalloc byte[jws.SigningInput.Length];
        if (Ascii.FromUtf16(jws.SigningInput, signingInput, out _) != OperationStatus.Done)
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
}
