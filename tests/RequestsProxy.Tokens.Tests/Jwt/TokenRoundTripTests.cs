using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Tests.Jwt;

public sealed class TokenRoundTripTests
{
    [Fact]
    public void Validate_FreshlyMintedToken_IsValid()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var ring = KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = "0123456789abcdef0123456789abcdef"u8.ToArray() });
        var keys = new StaticKeyRingSource(ring);
        var minted = new TokenIssuer(keys, time).Mint(new TokenRequest("job-1"));
        var validator = new TokenValidator(keys, StaticRevocationSource.None, new TokenValidationOptions(), time);

        var first = validator.Validate(minted.Token);
        var second = validator.Validate(minted.Token);

        Assert.Equal(TokenFailure.None, first.Failure);
        Assert.Equal("job-1", first.Claims!.Subject);
        Assert.Equal(minted.Jti, second.Claims!.Jti);
        Assert.Equal(1, validator.CacheHits);
    }
}
