using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>Mints HS256 job tokens with the ring's active key.</summary>
public sealed class TokenIssuer(IKeyRingSource keys, TimeProvider time)
{
    public MintedToken Mint(TokenRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Subject);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(request.Lifetime, TimeSpan.Zero);
        var ring = keys.Current ?? throw new InvalidOperationException("no valid key ring is loaded; cannot mint tokens");
        var key = ring.ActiveKey;

        var now = time.GetUtcNow();
        var issuedAt = now.ToUnixTimeSeconds();
        var expiresAt = issuedAt + (long)Math.Ceiling(request.Lifetime.TotalSeconds);
        Span<byte> jtiBytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(jtiBytes);
        var jti = Base64Url.EncodeToString(jtiBytes);

        var header = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg"u8, TokenDefaults.Algorithm);
            writer.WriteString("typ"u8, "JWT"u8);
            writer.WriteString("kid"u8, key.Kid);
            writer.WriteEndObject();
        }

        var payload = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteString("iss"u8, request.Issuer);
            writer.WriteString("aud"u8, request.Audience);
            writer.WriteString("sub"u8, request.Subject);
            writer.WriteString("jti"u8, jti);
            writer.WriteNumber("iat"u8, issuedAt);
            writer.WriteNumber("nbf"u8, issuedAt);
            writer.WriteNumber("exp"u8, expiresAt);
            if (request.Scope.Length > 0)
            {
                writer.WriteString("scope"u8, request.Scope);
            }

            writer.WriteEndObject();
        }

        var headerLength = Base64Url.GetEncodedLength(header.WrittenCount);
        var payloadLength = Base64Url.GetEncodedLength(payload.WrittenCount);
        var signingLength = headerLength + 1 + payloadLength;
        var signatureLength = Base64Url.GetEncodedLength(32);
        var buffer = new byte[signingLength + 1 + signatureLength];
        Base64Url.EncodeToUtf8(header.WrittenSpan, buffer.AsSpan(0, headerLength));
        buffer[headerLength] = (byte)'.';
        Base64Url.EncodeToUtf8(payload.WrittenSpan, buffer.AsSpan(headerLength + 1, payloadLength));
        buffer[signingLength] = (byte)'.';
        Span<byte> signature = stackalloc byte[32];
        key.Sign(buffer.AsSpan(0, signingLength), signature);
        Base64Url.EncodeToUtf8(signature, buffer.AsSpan(signingLength + 1));

        var token = System.Text.Encoding.ASCII.GetString(buffer);
        if (token.Length > TokenDefaults.MaxTokenLength)
        {
            throw new ArgumentException($"the token would be {token.Length} characters; at most {TokenDefaults.MaxTokenLength} verify", nameof(request));
        }

        return new MintedToken(token, jti, key.Kid, request.Subject, request.Scope,
            DateTimeOffset.FromUnixTimeSeconds(issuedAt), DateTimeOffset.FromUnixTimeSeconds(expiresAt));
    }
}
