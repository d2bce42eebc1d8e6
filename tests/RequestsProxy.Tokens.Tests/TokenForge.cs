using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Tests;

/// <summary>Builds arbitrary (also hostile) compact JWS strings with raw JSON, signed with a known key.</summary>
internal sealed class TokenForge
{
    public const long Now = 1_800_000_000;

    public static readonly byte[] KeyV1 = "v1-key-0123456789abcdef0123456789abcdef"u8.ToArray();
    public static readonly byte[] KeyV2 = "v2-key-0123456789abcdef0123456789abcdef"u8.ToArray();

    public TokenForge()
    {
        Time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Now));
        Ring = KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = KeyV1, ["v2"] = KeyV2 });
        Keys = new StaticKeyRingSource(Ring);
    }

    public FakeTimeProvider Time { get; }

    public KeyRing Ring { get; }

    public StaticKeyRingSource Keys { get; }

    public RevocationList Revoked { get; set; } = RevocationList.Empty;

    public static string Header(string kid = "v1", string alg = "HS256") => $$"""{"alg":"{{alg}}","typ":"JWT","kid":"{{kid}}"}""";

    public static string Payload(string sub = "job-1", string jti = "jti-1", long exp = Now + 3600, string aud = "\"requests-proxy\"", string iss = "jobs-manager", string extra = "") =>
        $$"""{"iss":"{{iss}}","aud":{{aud}},"sub":"{{sub}}","jti":"{{jti}}","iat":{{Now}},"nbf":{{Now}},"exp":{{exp}},"scope":"results:write flops:write"{{extra}}}""";

    public static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    public static string Sign(string headerJson, string payloadJson, byte[]? key = null) =>
        SignEncoded(Encode(headerJson), Encode(payloadJson), key);

    public static string SignEncoded(string header, string payload, byte[]? key = null)
    {
        var input = header + "." + payload;
        var signature = HMACSHA256.HashData(key ?? KeyV1, Encoding.ASCII.GetBytes(input));
        return input + "." + Base64Url.EncodeToString(signature);
    }

    public static string Valid() => Sign(Header(), Payload());

    public TokenValidator Validator(TokenValidationOptions? options = null) =>
        new(Keys, new StaticRevocationSource(Revoked), options ?? new TokenValidationOptions(), Time);

    public TokenFailure Check(string token) => Validator().Validate(token).Failure;
}
