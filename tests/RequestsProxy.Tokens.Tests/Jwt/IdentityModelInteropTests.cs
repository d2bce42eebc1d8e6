using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Tests.Jwt;

/// <summary>Interop with Microsoft.IdentityModel.JsonWebTokens, the ecosystem's standard library.</summary>
public sealed class IdentityModelInteropTests
{
    private readonly TokenForge _forge = new();

    private SymmetricSecurityKey Key(string kid) => new(kid == "v1" ? TokenForge.KeyV1 : TokenForge.KeyV2) { KeyId = kid };

    private TokenValidationParameters Parameters() => new()
    {
        ValidAudience = "requests-proxy",
        ValidIssuer = "jobs-manager",
        IssuerSigningKeys = [Key("v1"), Key("v2")],
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        LifetimeValidator = (nbf, exp, _, _) => exp > _forge.Time.GetUtcNow().UtcDateTime,
    };

    [Fact]
    public async Task OurToken_ValidatesInJsonWebTokenHandler()
    {
        var minted = new TokenIssuer(_forge.Keys, _forge.Time).Mint(new TokenRequest("job-9") { Scope = "results:write" });

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(minted.Token, Parameters());

        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("v1", jwt.Kid);
        Assert.Equal("job-9", jwt.Subject);
        Assert.Equal(minted.Jti, jwt.Id);
        Assert.Equal("results:write", jwt.GetClaim("scope").Value);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public void TheirHs256TokenWithKid_ValidatesHere(string kid)
    {
        var now = _forge.Time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "jobs-manager",
            Audience = "requests-proxy",
            Subject = new ClaimsIdentity([new Claim("sub", "job-3"), new Claim("jti", "their-jti"), new Claim("scope", "flops:write")]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(Key(kid), SecurityAlgorithms.HmacSha256),
        };
        var token = new JsonWebTokenHandler().CreateToken(descriptor);

        var result = new TokenValidator(_forge.Keys, StaticRevocationSource.None, new TokenValidationOptions(), _forge.Time).Validate(token);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("job-3", result.Claims!.Subject);
        Assert.Equal(kid, result.Claims.Kid);
        Assert.True(result.Claims.HasScope("flops:write"));
    }

    [Fact]
    public void TheirHs512Token_IsUnsupportedAlgHere()
    {
        var now = _forge.Time.GetUtcNow().UtcDateTime;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = "jobs-manager",
            Audience = "requests-proxy",
            Subject = new ClaimsIdentity([new Claim("sub", "job-3"), new Claim("jti", "x")]),
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(new byte[64]) { KeyId = "v1" }, SecurityAlgorithms.HmacSha512),
        };
        var token = new JsonWebTokenHandler().CreateToken(descriptor);

        Assert.Equal(TokenFailure.UnsupportedAlg, _forge.Check(token));
    }
}
