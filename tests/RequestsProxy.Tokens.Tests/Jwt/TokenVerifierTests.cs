using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Revocation;
using static RequestsProxy.Tokens.Tests.TokenForge;

namespace RequestsProxy.Tokens.Tests.Jwt;

public sealed class TokenVerifierTests
{
    private readonly TokenForge _forge = new();

    [Fact]
    public void Validate_WellFormedToken_ReturnsClaims()
    {
        var result = _forge.Validator().Validate(Valid());

        Assert.True(result.IsValid);
        Assert.Equal("job-1", result.Claims!.Subject);
        Assert.Equal("jti-1", result.Claims.Jti);
        Assert.Equal("v1", result.Claims.Kid);
        Assert.True(result.Claims.HasScope("flops:write"));
        Assert.False(result.Claims.HasScope("admin"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    [InlineData("..")]
    [InlineData(".e30.sig")]
    [InlineData("e30..sig")]
    public void Validate_BrokenStructure_IsMalformed(string token) => Assert.Equal(TokenFailure.Malformed, _forge.Check(token));

    [Fact]
    public void Validate_FourSegments_IsMalformed() => Assert.Equal(TokenFailure.Malformed, _forge.Check(Valid() + ".x"));

    [Theory]
    [InlineData("=")]
    [InlineData("+")]
    [InlineData("/")]
    [InlineData(" ")]
    [InlineData("\n")]
    [InlineData("é")]
    public void Validate_CharacterOutsideBase64UrlInAnySegment_IsMalformed(string bad)
    {
        var parts = Valid().Split('.');
        for (var i = 0; i < 3; i++)
        {
            var copy = (string[])parts.Clone();
            copy[i] += bad;
            Assert.Equal(TokenFailure.Malformed, _forge.Check(string.Join('.', copy)));
        }
    }

    [Fact]
    public void Validate_PaddedSegment_IsMalformed()
    {
        var header = Encode(Header());
        var padded = header + new string('=', (4 - (header.Length % 4)) % 4);
        var token = SignEncoded(padded == header ? header + "==" : padded, Encode(Payload()));
        Assert.Equal(TokenFailure.Malformed, _forge.Check(token));
    }

    [Fact]
    public void Validate_NonCanonicalTrailingBits_IsMalformed()
    {
        // {"alg":...} encodes to a length with unused bits; flipping one of them decodes to the same bytes.
        var header = Encode(Header());
        for (var pad = " "; header.Length % 4 == 0; pad += " ")
        {
            header = Encode(Header() + pad);
        }

        var last = header[^1];
        var twisted = header[..^1] + (char)(last + 1);
        Assert.Equal(TokenFailure.Malformed, _forge.Check(SignEncoded(twisted, Encode(Payload()))));
    }

    [Fact]
    public void Validate_OversizedToken_IsMalformed()
    {
        var token = Sign(Header(), Payload(extra: $",\"pad\":\"{new string('x', 4000)}\""));
        Assert.True(token.Length > TokenDefaults.MaxTokenLength);
        Assert.Equal(TokenFailure.Malformed, _forge.Check(token));
    }

    [Fact]
    public void Validate_TokenOfExactlyMaxLength_IsAccepted()
    {
        var baseline = Sign(Header(), Payload(extra: ",\"pad\":\"\"")).Length;
        var pad = 1;
        string token;
        do
        {
            token = Sign(Header(), Payload(extra: $",\"pad\":\"{new string('x', pad++)}\""));
        }
        while (token.Length < TokenDefaults.MaxTokenLength);

        Assert.True(baseline < token.Length);
        Assert.Equal(token.Length == TokenDefaults.MaxTokenLength ? TokenFailure.None : TokenFailure.Malformed, _forge.Check(token));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("\"str\"")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\"")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\"} {}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\",}")]
    [InlineData("{\"alg\":\"HS256\",/*c*/\"kid\":\"v1\"}")]
    public void Validate_HeaderNotAJsonObject_IsMalformed(string header) =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(header, Payload())));

    [Theory]
    [InlineData("{\"alg\":\"HS256\",\"alg\":\"HS256\",\"kid\":\"v1\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\",\"x\":{\"a\":1,\"a\":2}}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\",\"x\":[{\"a\":1},{\"b\":{\"c\":1,\"c\":1}}]}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\",\"k\\u0069d\":\"v2\"}")]
    public void Validate_DuplicateHeaderMember_IsMalformed(string header) =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(header, Payload())));

    [Theory]
    [InlineData(",\"sub\":\"other\"")]
    [InlineData(",\"x\":{\"y\":1,\"y\":1}")]
    [InlineData(",\"x\":[[{\"y\":1,\"z\":{\"q\":1,\"\\u0071\":2}}]]")]
    public void Validate_DuplicatePayloadMember_IsMalformed(string extra) =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), Payload(extra: extra))));

    [Fact]
    public void Validate_SameNameInSiblingObjects_IsNotADuplicate() =>
        Assert.Equal(TokenFailure.None, _forge.Check(Sign(Header(), Payload(extra: ",\"x\":{\"a\":1},\"y\":{\"a\":1},\"z\":[{\"a\":1},{\"a\":2}]"))));

    // Finding A6: hundreds of same-length names in one object (a forged token's cheapest CPU lever).
    [Theory]
    [InlineData(340, false, TokenFailure.None)]
    [InlineData(340, true, TokenFailure.Malformed)]
    public void Validate_HundredsOfMembers_AreCheckedForDuplicatesWhateverTheirNumber(int count, bool repeatFirst, TokenFailure expected)
    {
        var extra = new System.Text.StringBuilder();
        for (var i = 0; i < count; i++)
        {
            extra.Append(",\"").Append(i.ToString("x3", System.Globalization.CultureInfo.InvariantCulture)).Append("\":0");
        }

        if (repeatFirst)
        {
            extra.Append(",\"000\":1");
        }

        Assert.Equal(expected, _forge.Check(Sign(Header(), Payload(extra: extra.ToString()))));
    }

    [Fact]
    public void Validate_ADuplicateAfterAClosedObjectWithTheSameNames_IsStillFoundInItsOwnObject() =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), Payload(extra: ",\"x\":{\"q\":1},\"q\":1,\"y\":{\"q\":1},\"q\":2"))));

    [Fact]
    public void Validate_CritHeader_IsMalformed() =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign("{\"alg\":\"HS256\",\"kid\":\"v1\",\"crit\":[\"exp\"]}", Payload())));

    [Theory]
    [InlineData("\"jwt\"")]
    [InlineData("\"JWS\"")]
    [InlineData("1")]
    [InlineData("null")]
    public void Validate_TypOtherThanJwt_IsMalformed(string typ) =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign($"{{\"alg\":\"HS256\",\"typ\":{typ},\"kid\":\"v1\"}}", Payload())));

    [Fact]
    public void Validate_NoTyp_IsAccepted() =>
        Assert.Equal(TokenFailure.None, _forge.Check(Sign("{\"alg\":\"HS256\",\"kid\":\"v1\"}", Payload())));

    [Theory]
    [InlineData("\"none\"")]
    [InlineData("\"HS512\"")]
    [InlineData("\"RS256\"")]
    [InlineData("\"hs256\"")]
    [InlineData("\"HS256 \"")]
    [InlineData("\"\"")]
    [InlineData("null")]
    [InlineData("256")]
    [InlineData("[\"HS256\"]")]
    [InlineData("{\"v\":\"HS256\"}")]
    public void Validate_AlgorithmOtherThanHs256_IsUnsupportedAlg(string alg) =>
        Assert.Equal(TokenFailure.UnsupportedAlg, _forge.Check(Sign($"{{\"alg\":{alg},\"typ\":\"JWT\",\"kid\":\"v1\"}}", Payload())));

    [Fact]
    public void Validate_MissingAlg_IsUnsupportedAlg() =>
        Assert.Equal(TokenFailure.UnsupportedAlg, _forge.Check(Sign("{\"typ\":\"JWT\",\"kid\":\"v1\"}", Payload())));

    [Fact]
    public void Validate_AlgNoneWithEmptySignature_IsUnsupportedAlg()
    {
        var token = Encode("{\"alg\":\"none\",\"kid\":\"v1\"}") + "." + Encode(Payload()) + ".";
        Assert.Equal(TokenFailure.UnsupportedAlg, _forge.Check(token));
    }

    [Fact]
    public void Validate_EscapedHs256_IsTheSameAlgorithm() =>
        Assert.Equal(TokenFailure.None, _forge.Check(Sign("{\"alg\":\"HS\\u0032\\u00356\",\"kid\":\"v1\"}", Payload())));

    [Fact]
    public void Validate_AlgorithmConfusionHs512WithRingKey_IsUnsupportedAlg()
    {
        var header = Encode("{\"alg\":\"HS512\",\"kid\":\"v1\"}");
        var payload = Encode(Payload());
        var signature = System.Security.Cryptography.HMACSHA512.HashData(KeyV1, System.Text.Encoding.ASCII.GetBytes(header + "." + payload));
        var token = header + "." + payload + "." + System.Buffers.Text.Base64Url.EncodeToString(signature);
        Assert.Equal(TokenFailure.UnsupportedAlg, _forge.Check(token));
    }

    [Theory]
    [InlineData("{\"alg\":\"HS256\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":null}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":1}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":[\"v1\"]}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":{\"v\":1}}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v3\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"active\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"../v1\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"..data/v1\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"/etc/passwd\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"v1\\u0000\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\"V1\"}")]
    [InlineData("{\"alg\":\"HS256\",\"kid\":\" v1\"}")]
    public void Validate_KidMissingOrNotInRing_IsUnknownKid(string header) =>
        Assert.Equal(TokenFailure.UnknownKid, _forge.Check(Sign(header, Payload())));

    [Fact]
    public void Validate_TokenSignedWithOtherRingKey_IsBadSignature() =>
        Assert.Equal(TokenFailure.BadSignature, _forge.Check(Sign(Header("v1"), Payload(), KeyV2)));

    [Fact]
    public void Validate_TokenOfSecondKid_IsValid() =>
        Assert.Equal(TokenFailure.None, _forge.Check(Sign(Header("v2"), Payload(), KeyV2)));

    [Theory]
    [InlineData("")]
    [InlineData("AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("A")]
    public void Validate_SignatureOfWrongLength_IsBadSignature(string signature)
    {
        var parts = Valid().Split('.');
        Assert.Equal(TokenFailure.BadSignature, _forge.Check($"{parts[0]}.{parts[1]}.{signature}"));
    }

    [Fact]
    public void Validate_TamperedPayload_IsBadSignature()
    {
        var parts = Valid().Split('.');
        var forged = Encode(Payload(sub: "job-2"));
        Assert.Equal(TokenFailure.BadSignature, _forge.Check($"{parts[0]}.{forged}.{parts[2]}"));
    }

    [Fact]
    public void Validate_TamperedHeader_IsBadSignature()
    {
        var parts = Valid().Split('.');
        var forged = Encode("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"v2\"}");
        Assert.Equal(TokenFailure.BadSignature, _forge.Check($"{forged}.{parts[1]}.{parts[2]}"));
    }

    [Fact]
    public void Validate_TruncatedSignature_IsBadSignature()
    {
        var token = Valid();
        Assert.Equal(TokenFailure.BadSignature, _forge.Check(token[..^4]));
    }

    [Fact]
    public void Validate_SignatureChecksBeforeClaims_ExpiredForgeryIsBadSignature() =>
        Assert.Equal(TokenFailure.BadSignature, _forge.Check(Sign(Header(), Payload(exp: Now - 3600), "wrong-key-0123456789abcdef0123456789"u8.ToArray())));

    [Theory]
    [InlineData(Now - 31, TokenFailure.Expired)]
    [InlineData(Now - 30, TokenFailure.Expired)]
    [InlineData(Now - 29, TokenFailure.None)]
    public void Validate_ExpiryWithLeeway_ExpiredWhenNowReachesExpPlusLeeway(long exp, TokenFailure expected) =>
        Assert.Equal(expected, _forge.Check(Sign(Header(), Payload(exp: exp))));

    [Fact]
    public void Validate_NotBeforeInFutureBeyondLeeway_IsNotYetValid()
    {
        var payload = $$"""{"iss":"jobs-manager","aud":"requests-proxy","sub":"s","jti":"j","nbf":{{Now + 31}},"exp":{{Now + 3600}}}""";
        Assert.Equal(TokenFailure.NotYetValid, _forge.Check(Sign(Header(), payload)));
        var withinLeeway = $$"""{"iss":"jobs-manager","aud":"requests-proxy","sub":"s","jti":"j","nbf":{{Now + 30}},"exp":{{Now + 3600}}}""";
        Assert.Equal(TokenFailure.None, _forge.Check(Sign(Header(), withinLeeway)));
    }

    [Fact]
    public void Validate_ExpiredAndNotYetValid_ReportsExpiredFirst()
    {
        var payload = $$"""{"iss":"jobs-manager","aud":"requests-proxy","sub":"s","jti":"j","nbf":{{Now + 100}},"exp":{{Now - 100}}}""";
        Assert.Equal(TokenFailure.Expired, _forge.Check(Sign(Header(), payload)));
    }

    [Theory]
    [InlineData("1800003600.5")]
    [InlineData("1.8000036E9")]
    [InlineData("18000036e2")]
    public void Validate_DecimalAndExponentNumericDates_AreNumbers(string exp)
    {
        var payload = $$"""{"iss":"jobs-manager","aud":"requests-proxy","sub":"s","jti":"j","iat":-5.25,"nbf":0,"exp":{{exp}}}""";
        Assert.Equal(TokenFailure.None, _forge.Check(Sign(Header(), payload)));
    }

    [Theory]
    [InlineData("1e400", "0", TokenFailure.None)]
    [InlineData("-1e400", "0", TokenFailure.Expired)]
    [InlineData("1e400", "1e400", TokenFailure.NotYetValid)]
    [InlineData("1e400", "-1e400", TokenFailure.None)]
    public void Validate_NumericDatesBeyondDouble_AreTheFarFutureOrPast(string exp, string nbf, TokenFailure expected)
    {
        var payload = $$"""{"iss":"jobs-manager","aud":"requests-proxy","sub":"s","jti":"j","iat":-1e999,"nbf":{{nbf}},"exp":{{exp}}}""";
        Assert.Equal(expected, _forge.Check(Sign(Header(), payload)));
    }

    [Fact]
    public void Validate_CustomLeeway_IsUsed()
    {
        var token = Sign(Header(), Payload(exp: Now - 10));
        Assert.Equal(TokenFailure.None, _forge.Validator().Validate(token).Failure);
        Assert.Equal(TokenFailure.Expired, _forge.Validator(new TokenValidationOptions { Leeway = TimeSpan.Zero }).Validate(token).Failure);
    }

    [Theory]
    [InlineData("\"other\"")]
    [InlineData("[\"a\",\"b\"]")]
    [InlineData("[]")]
    [InlineData("\"Requests-Proxy\"")]
    public void Validate_AudienceNotOurs_IsWrongAudience(string aud) =>
        Assert.Equal(TokenFailure.WrongAudience, _forge.Check(Sign(Header(), Payload(aud: aud))));

    [Theory]
    [InlineData("[\"other\",\"requests-proxy\"]")]
    [InlineData("[\"requests-proxy\"]")]
    [InlineData("\"requests\\u002dproxy\"")]
    public void Validate_AudienceArrayOrEscapedContainingOurs_IsValid(string aud) =>
        Assert.Equal(TokenFailure.None, _forge.Check(Sign(Header(), Payload(aud: aud))));

    [Fact]
    public void Validate_IssuerNotOurs_IsWrongIssuer() =>
        Assert.Equal(TokenFailure.WrongIssuer, _forge.Check(Sign(Header(), Payload(iss: "someone-else"))));

    [Fact]
    public void Validate_WrongAudienceAndIssuer_ReportsAudienceFirst() =>
        Assert.Equal(TokenFailure.WrongAudience, _forge.Check(Sign(Header(), Payload(aud: "\"x\"", iss: "y"))));

    [Fact]
    public void Validate_ConfiguredAudienceAndIssuer_AreUsed()
    {
        var token = Sign(Header(), Payload(aud: "\"edge\"", iss: "me"));
        var result = _forge.Validator(new TokenValidationOptions { Audience = "edge", Issuer = "me" }).Validate(token);
        Assert.True(result.IsValid);
    }

    [Fact]
    public void Validate_RevokedJti_IsRevoked()
    {
        _forge.Revoked = new RevocationList([new RevocationEntry("jti-1", Now + 3600, "job-1")]);
        Assert.Equal(TokenFailure.Revoked, _forge.Check(Valid()));
    }

    [Fact]
    public void Validate_RevokedButExpired_ReportsExpired()
    {
        _forge.Revoked = new RevocationList([new RevocationEntry("jti-1")]);
        Assert.Equal(TokenFailure.Expired, _forge.Check(Sign(Header(), Payload(exp: Now - 100))));
    }

    [Theory]
    [InlineData("sub")]
    [InlineData("jti")]
    [InlineData("exp")]
    [InlineData("aud")]
    [InlineData("iss")]
    public void Validate_MissingRequiredClaim_IsMalformed(string claim)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Payload())!.AsObject();
        node.Remove(claim);
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), node.ToJsonString())));
    }

    [Theory]
    [InlineData("sub", "1")]
    [InlineData("sub", "null")]
    [InlineData("sub", "\"\"")]
    [InlineData("sub", "[\"a\"]")]
    [InlineData("jti", "{}")]
    [InlineData("jti", "\"\"")]
    [InlineData("iss", "true")]
    [InlineData("aud", "1")]
    [InlineData("aud", "[1]")]
    [InlineData("aud", "[\"requests-proxy\",null]")]
    [InlineData("aud", "{\"a\":\"requests-proxy\"}")]
    [InlineData("exp", "\"1800003600\"")]
    [InlineData("exp", "null")]
    [InlineData("exp", "[1800003600]")]
    [InlineData("nbf", "\"0\"")]
    [InlineData("iat", "true")]
    [InlineData("scope", "[\"results:write\"]")]
    public void Validate_WrongClaimType_IsMalformed(string claim, string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Payload())!.AsObject();
        node[claim] = System.Text.Json.Nodes.JsonNode.Parse(json);
        var payload = node.ToJsonString();
        if (json == "null")
        {
            payload = payload.Replace($"\"{claim}\":null", $"\"{claim}\":null", StringComparison.Ordinal);
        }

        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), payload)));
    }

    [Fact]
    public void Validate_ExtraClaimsOfAnyShape_AreIgnored() =>
        Assert.Equal(TokenFailure.None, _forge.Check(Sign(Header(), Payload(extra: ",\"x\":{\"y\":[1,2,{\"z\":null}]},\"n\":-1.5e3,\"b\":false"))));

    [Fact]
    public void Validate_DeeplyNestedJson_IsMalformedWithoutThrowing()
    {
        var deep = new string('[', 500) + new string(']', 500);
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), Payload(extra: $",\"d\":{deep}"))));
        var deepObjects = string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200);
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), Payload(extra: $",\"d\":{deepObjects}"))));
    }

    [Fact]
    public void Validate_InvalidUtf8InPayload_IsMalformed()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(Payload()).ToList();
        var at = bytes.IndexOf((byte)'j');
        bytes.Insert(at, 0xFF);
        var payload = System.Buffers.Text.Base64Url.EncodeToString(bytes.ToArray());
        Assert.Equal(TokenFailure.Malformed, _forge.Check(SignEncoded(Encode(Header()), payload)));
    }

    [Theory]
    [InlineData("\\uD800")]
    [InlineData("\\uDC00x")]
    public void Validate_LoneSurrogateEscape_IsMalformed(string escaped) =>
        Assert.Equal(TokenFailure.Malformed, _forge.Check(Sign(Header(), Payload(sub: "job" + escaped))));

    [Fact]
    public void Validate_NullToken_IsMalformed() => Assert.Equal(TokenFailure.Malformed, _forge.Validator().Validate(null).Failure);

    [Fact]
    public void Validate_EscapedClaimValues_AreUnescaped()
    {
        var result = _forge.Validator().Validate(Sign(Header(), Payload(sub: "job\\u002d7", jti: "j\\/1")));
        Assert.True(result.IsValid);
        Assert.Equal("job-7", result.Claims!.Subject);
        Assert.Equal("j/1", result.Claims.Jti);
    }

    [Fact]
    public void Validate_EveryFailure_HasItsStableReason()
    {
        Assert.Equal(
            ["malformed", "unsupported_alg", "unknown_kid", "bad_signature", "expired", "not_yet_valid", "wrong_audience", "wrong_issuer", "revoked"],
            Enum.GetValues<TokenFailure>().Skip(1).Select(f => f.ToReason()));
    }
}
