using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Revocation;
using static RequestsProxy.Tokens.Tests.TokenForge;

namespace RequestsProxy.Tokens.Tests.Jwt;

public sealed class TokenValidatorCacheTests
{
    private readonly TokenForge _forge = new();

    [Fact]
    public void CachedToken_StillExpiresOnTime()
    {
        var validator = _forge.Validator();
        var token = Sign(Header(), Payload(exp: Now + 60));
        Assert.True(validator.Validate(token).IsValid);

        _forge.Time.Advance(TimeSpan.FromSeconds(89));
        Assert.True(validator.Validate(token).IsValid);
        _forge.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(TokenFailure.Expired, validator.Validate(token).Failure);
        Assert.True(validator.CacheHits >= 2);
    }

    [Fact]
    public void CachedToken_RevokedLater_IsRefused()
    {
        var revocations = new MutableRevocations();
        var validator = new TokenValidator(_forge.Keys, revocations, new TokenValidationOptions(), _forge.Time);
        var token = Valid();
        Assert.True(validator.Validate(token).IsValid);

        revocations.Current = new RevocationList([new RevocationEntry("jti-1", Now + 3600)]);

        Assert.Equal(TokenFailure.Revoked, validator.Validate(token).Failure);
    }

    [Fact]
    public void Cache_IsBounded()
    {
        var validator = _forge.Validator(new TokenValidationOptions { CacheCapacity = 8 });
        for (var i = 0; i < 50; i++)
        {
            Assert.True(validator.Validate(Sign(Header(), Payload(jti: $"j{i}"))).IsValid);
            Assert.InRange(validator.CacheCount, 1, 8);
        }
    }

    [Fact]
    public void SpanOfAHeader_HitsTheCacheOfTheString()
    {
        var validator = _forge.Validator();
        var token = Valid();
        var header = "Bearer " + token;
        Assert.True(validator.Validate(header.AsSpan(7)).IsValid);
        Assert.True(validator.Validate(token).IsValid);
        Assert.True(validator.Validate(header.AsSpan(7)).IsValid);

        Assert.Equal(2, validator.CacheHits);
        Assert.Equal(TokenFailure.Malformed, validator.Validate(header.AsSpan(6)).Failure);
        Assert.Equal(TokenFailure.Malformed, validator.Validate(ReadOnlySpan<char>.Empty).Failure);
    }

    [Fact]
    public void FailedTokens_AreNotCached()
    {
        var validator = _forge.Validator();
        var bad = Sign(Header(), Payload(), KeyV2);
        Assert.Equal(TokenFailure.BadSignature, validator.Validate(bad).Failure);
        Assert.Equal(TokenFailure.BadSignature, validator.Validate(bad).Failure);
        Assert.Equal(0, validator.CacheCount);
        Assert.Equal(0, validator.CacheHits);
    }

    private sealed class MutableRevocations : IRevocationSource
    {
        public RevocationList Current { get; set; } = RevocationList.Empty;
    }
}
