using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Tokens.Admin;

namespace RequestsProxy.Tokens.Tests.Admin;

/// <summary>Issue 15 C1: signed admin requests — the admin token is the key and never travels.</summary>
public sealed class AdminSignatureVerifierTests
{
    private const string Key = "admin-token-0123456789abcdefghijklmnopqrstuvwxyz";
    private const string Target = "10.244.0.17:8888";
    private const string Path = "/admin/v1/sync";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("{\"registrations\":[{\"digest\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\",\"sub\":\"job-1\",\"scope\":\"\"}]}");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    private AdminSignedRequest Signed(string method = "POST", string path = Path, string target = Target, byte[]? body = null, long? timestamp = null, string? nonce = null, string key = Key)
    {
        var headers = AdminSignature.Sign(key, method, path, target, body ?? Body, timestamp ?? Now, nonce ?? AdminSignature.NewNonce());
        return new AdminSignedRequest(method, path, body ?? Body, headers.Timestamp, headers.Nonce, headers.Target, headers.Signature, headers.ContentSha256);
    }

    private AdminSignatureFailure Verify(AdminSignatureVerifier verifier, AdminSignedRequest request, string key = Key) => verifier.Verify(key, request, [Target]);

    [Fact]
    public void Verify_GoodSignature_Accepted()
    {
        var verifier = new AdminSignatureVerifier(_time);

        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, Signed()));
        Assert.Equal(1, verifier.Remembered);
    }

    [Fact]
    public void Verify_EmptyBody_AcceptedAndBoundToNoBody()
    {
        var verifier = new AdminSignatureVerifier(_time);
        var delete = Signed("DELETE", "/admin/v1/subjects/job-1", body: []);

        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, delete));
        Assert.Equal(AdminSignatureFailure.BodyMismatch, Verify(verifier, Signed("DELETE", "/admin/v1/subjects/job-1", body: []) with { Body = Body }));
    }

    public static TheoryData<string> Fields => ["method", "path", "target", "digest", "timestamp", "nonce", "signature", "key"];

    [Theory]
    [MemberData(nameof(Fields))]
    public void Verify_AnyFieldTampered_Refused(string field)
    {
        var verifier = new AdminSignatureVerifier(_time);
        var good = Signed();
        var tampered = field switch
        {
            "method" => good with { Method = "DELETE" },
            "path" => good with { PathAndQuery = "/admin/v1/tokens" },
            // Re-pointed at another replica's address that the verifier also answers for: the MAC no longer matches.
            "target" => good with { Target = "10.244.0.18:8888" },
            // Another body declared (its digest header) for the signed one: the MAC covers the digest.
            "digest" => good with { Body = Encoding.UTF8.GetBytes("{\"registrations\":[]}"), ContentSha256 = AdminSignature.BodySha256("{\"registrations\":[]}"u8) },
            "timestamp" => good with { Timestamp = (Now - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "nonce" => good with { Nonce = AdminSignature.NewNonce() },
            "signature" => good with { Signature = Flip(good.Signature!) },
            _ => good,
        };
        var key = field == "key" ? Key + "x" : Key;

        var failure = verifier.Verify(key, tampered, [Target, "10.244.0.18:8888"]);

        Assert.Equal(AdminSignatureFailure.BadSignature, failure);
        Assert.Equal(0, verifier.Remembered);
    }

    [Theory]
    [InlineData(-61, AdminSignatureFailure.StaleTimestamp)]
    [InlineData(-60, AdminSignatureFailure.None)]
    [InlineData(60, AdminSignatureFailure.None)]
    [InlineData(61, AdminSignatureFailure.StaleTimestamp)]
    [InlineData(-3600, AdminSignatureFailure.StaleTimestamp)]
    public void Verify_ClockSkew_RefusedOutsideSixtySeconds(int skewSeconds, AdminSignatureFailure expected)
    {
        var verifier = new AdminSignatureVerifier(_time);

        Assert.Equal(expected, Verify(verifier, Signed(timestamp: Now + skewSeconds)));
    }

    [Fact]
    public void Verify_SameRequestTwice_ReplayRefused()
    {
        var verifier = new AdminSignatureVerifier(_time);
        var request = Signed();

        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, request));
        Assert.Equal(AdminSignatureFailure.Replayed, Verify(verifier, request));

        // Still refused at the window's edge; after it, the timestamp itself is stale, and the nonce is forgotten.
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(AdminSignatureFailure.Replayed, Verify(verifier, request));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(AdminSignatureFailure.StaleTimestamp, Verify(verifier, request));
        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, Signed()));
        Assert.Equal(1, verifier.Remembered);
    }

    [Fact]
    public void Verify_FutureTimestampReplayedLater_StillRemembered()
    {
        var verifier = new AdminSignatureVerifier(_time);
        var request = Signed(timestamp: Now + 60);

        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, request));
        _time.Advance(TimeSpan.FromSeconds(119));

        Assert.Equal(AdminSignatureFailure.Replayed, Verify(verifier, request));
    }

    [Fact]
    public void Verify_SignedForAnotherAddress_WrongTarget()
    {
        var verifier = new AdminSignatureVerifier(_time);

        // What an impostor on a released pod IP captured, replayed at a real replica: signed for the impostor's address.
        var captured = Signed(target: "10.244.0.99:8888");

        Assert.Equal(AdminSignatureFailure.WrongTarget, Verify(verifier, captured));
        Assert.Equal(0, verifier.Remembered);
    }

    [Fact]
    public void Verify_BodyMismatch_Refused()
    {
        var verifier = new AdminSignatureVerifier(_time);
        var request = Signed();
        var changed = (byte[])Body.Clone();
        changed[^3] ^= 1;

        // The MAC holds for the declared digest; the body read is not the one declared.
        Assert.Equal(AdminSignatureFailure.BodyMismatch, Verify(verifier, request with { Body = changed }));
        Assert.Equal(AdminSignatureFailure.BodyMismatch, Verify(verifier, request with { Body = Body.Concat(" "u8.ToArray()).ToArray() }));
        Assert.Equal(0, verifier.Remembered);
        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, request));
    }

    /// <summary>
    /// Finding B1: a replica may read a body only for the key's holder. The headers alone (no body
    /// yet) pass for a signed request and fail for anything forged without the key, however well-formed.
    /// </summary>
    [Fact]
    public void VerifyHeaders_BeforeTheBody_OnlyTheKeysHolderPasses()
    {
        var verifier = new AdminSignatureVerifier(_time);
        var signed = Signed() with { Body = ReadOnlyMemory<byte>.Empty };
        var forged = signed with { Signature = new string('A', AdminSignature.SignatureLength) };

        Assert.Equal(AdminSignatureFailure.None, verifier.VerifyHeaders(Key, signed, [Target]));
        Assert.Equal(AdminSignatureFailure.BadSignature, verifier.VerifyHeaders(Key, forged, [Target]));
        Assert.Equal(AdminSignatureFailure.BadSignature, verifier.VerifyHeaders(Key + "x", signed, [Target]));
        Assert.Equal(0, verifier.Remembered);
    }

    [Theory]
    [InlineData("timestamp", null, AdminSignatureFailure.Missing)]
    [InlineData("nonce", null, AdminSignatureFailure.Missing)]
    [InlineData("target", null, AdminSignatureFailure.Missing)]
    [InlineData("signature", null, AdminSignatureFailure.Missing)]
    [InlineData("digest", null, AdminSignatureFailure.Missing)]
    [InlineData("digest", "AAAA", AdminSignatureFailure.Malformed)]
    // Finding B4: a 43rd character with its spare bits set is no base64url (Decode threw: a 500).
    [InlineData("signature", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", AdminSignatureFailure.Malformed)]
    [InlineData("digest", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", AdminSignatureFailure.Malformed)]
    [InlineData("timestamp", "", AdminSignatureFailure.Malformed)]
    [InlineData("timestamp", "-5", AdminSignatureFailure.Malformed)]
    [InlineData("timestamp", "1.5", AdminSignatureFailure.Malformed)]
    [InlineData("timestamp", "99999999999999999999", AdminSignatureFailure.Malformed)]
    [InlineData("nonce", "short", AdminSignatureFailure.Malformed)]
    [InlineData("nonce", "AAAAAAAAAAAAAAAAAAAAA+", AdminSignatureFailure.Malformed)]
    [InlineData("target", "10.0.0.1 :8888", AdminSignatureFailure.Malformed)]
    [InlineData("signature", "AAAA", AdminSignatureFailure.Malformed)]
    [InlineData("signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", AdminSignatureFailure.Malformed)]
    public void Verify_MissingOrMalformedHeader_Refused(string header, string? value, AdminSignatureFailure expected)
    {
        var verifier = new AdminSignatureVerifier(_time);
        var good = Signed();
        var request = header switch
        {
            "timestamp" => good with { Timestamp = value },
            "nonce" => good with { Nonce = value },
            "target" => good with { Target = value },
            "digest" => good with { ContentSha256 = value },
            _ => good with { Signature = value },
        };

        Assert.Equal(expected, Verify(verifier, request));
        Assert.True(request.ClaimsSignature);
    }

    [Fact]
    public void Verify_NonceMemoryFull_RefusesInsteadOfForgetting()
    {
        var verifier = new AdminSignatureVerifier(_time, maxRemembered: 3);
        var first = Signed();
        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, first));
        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, Signed()));
        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, Signed()));

        Assert.Equal(AdminSignatureFailure.ReplayCacheFull, Verify(verifier, Signed()));
        Assert.Equal(AdminSignatureFailure.Replayed, Verify(verifier, first));

        // Once the remembered timestamps leave the window, there is room again.
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(AdminSignatureFailure.None, Verify(verifier, Signed()));
        Assert.Equal(1, verifier.Remembered);
    }

    [Fact]
    public void Canonical_IsTheDocumentedSevenLines()
    {
        var canonical = AdminSignature.Canonical("post", "/admin/v1/tokens/abc?x=1", "10.0.0.1:8888", AdminSignature.BodySha256([]), 1767225600, "nonce");

        Assert.Equal("RP-ADMIN-HMAC-SHA256\nPOST\n/admin/v1/tokens/abc?x=1\n10.0.0.1:8888\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\n1767225600\nnonce", canonical);
    }

    [Fact]
    public void Sign_KnownVector_IsHmacSha256OfTheCanonicalString()
    {
        // Independent of this library: HMAC-SHA256 computed by System.Security.Cryptography over the documented string.
        var headers = AdminSignature.Sign("k", "DELETE", "/admin/v1/subjects/job-1", "127.0.0.1:8888", [], 1767225600, "AAAAAAAAAAAAAAAAAAAAAA");
        var expected = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.HMACSHA256.HashData("k"u8,
            Encoding.UTF8.GetBytes("RP-ADMIN-HMAC-SHA256\nDELETE\n/admin/v1/subjects/job-1\n127.0.0.1:8888\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU\n1767225600\nAAAAAAAAAAAAAAAAAAAAAA")));

        Assert.Equal(expected, headers.Signature);
        Assert.Equal(("1767225600", "AAAAAAAAAAAAAAAAAAAAAA", "127.0.0.1:8888"), (headers.Timestamp, headers.Nonce, headers.Target));
        Assert.DoesNotContain("k", headers.All.Select(h => h.Value));
    }

    [Theory]
    [InlineData("http://10.244.0.17:8888/admin/v1/sync", "10.244.0.17:8888")]
    [InlineData("http://[fd00::17]:8888/admin/v1/sync", "[fd00::17]:8888")]
    [InlineData("http://localhost/admin/v1/sync", "localhost:80")]
    public void TargetOf_Url_IsHostAndPort(string url, string expected) => Assert.Equal(expected, AdminSignature.TargetOf(new Uri(url)));

    [Theory]
    [InlineData("10.244.0.17", "10.244.0.17:8888")]
    [InlineData("::ffff:10.244.0.17", "10.244.0.17:8888")]
    [InlineData("fd00::17", "[fd00::17]:8888")]
    public void TargetOf_LocalAddress_MatchesWhatTheClientSigns(string address, string expected) =>
        Assert.Equal(expected, AdminSignature.TargetOf(IPAddress.Parse(address), 8888));

    private static string Flip(string signature) => (signature[0] == 'A' ? 'B' : 'A') + signature[1..];
}
