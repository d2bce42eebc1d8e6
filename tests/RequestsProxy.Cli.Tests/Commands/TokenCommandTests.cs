using System.Text.Json;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Cli.Tests.Commands;

public sealed class TokenCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<string> InitAsync(string name = "keys")
    {
        var dir = _temp.Combine(name);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", dir)).ExitCode);
        return dir;
    }

    [Fact]
    public async Task MintThenVerify_PrintsOnlyTheTokenThenItsClaims()
    {
        var keys = await InitAsync();
        var mint = await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "job-42", "--ttl", "600", "--scope", "results:write");
        Assert.Equal(0, mint.ExitCode);
        Assert.Equal(2, mint.Line.Count(c => c == '.'));
        Assert.DoesNotContain('\n', mint.Line);

        var verify = await Rpctl.RunAsync("token", "verify", "--keys", keys, mint.Line);

        Assert.Equal(0, verify.ExitCode);
        using var claims = JsonDocument.Parse(verify.Stdout);
        Assert.Equal("job-42", claims.RootElement.GetProperty("sub").GetString());
        Assert.Equal("results:write", claims.RootElement.GetProperty("scope").GetString());
        var exp = claims.RootElement.GetProperty("exp").GetInt64();
        Assert.Equal(600, exp - claims.RootElement.GetProperty("iat").GetInt64());
    }

    [Fact]
    public async Task Verify_FromStdin_Works()
    {
        var keys = await InitAsync();
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "j")).Line;
        var verify = await Rpctl.RunWithInputAsync(token + "\n", "token", "verify", "--keys", keys, "-");
        Assert.Equal(0, verify.ExitCode);
    }

    [Fact]
    public async Task Verify_NowAfterExpiry_IsExpiredWithExit1()
    {
        var keys = await InitAsync();
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "j", "--ttl", "60")).Line;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var later = await Rpctl.RunAsync("token", "verify", "--keys", keys, "--now", (now + 60 + 31).ToString(System.Globalization.CultureInfo.InvariantCulture), token);
        var earlier = await Rpctl.RunAsync("token", "verify", "--keys", keys, "--now", (now - 3600).ToString(System.Globalization.CultureInfo.InvariantCulture), token);

        Assert.Equal((1, "invalid: expired"), (later.ExitCode, later.Line));
        Assert.Equal((1, "invalid: not_yet_valid"), (earlier.ExitCode, earlier.Line));
    }

    [Fact]
    public async Task Verify_OtherRing_IsBadSignature_UnknownKidAfterRetire()
    {
        var keys = await InitAsync();
        var other = await InitAsync("other");
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "j")).Line;

        var result = await Rpctl.RunAsync("token", "verify", "--keys", other, token);
        Assert.Equal((1, "invalid: bad_signature"), (result.ExitCode, result.Line));

        Assert.Equal("v2", (await Rpctl.RunAsync("keys", "add", "--dir", keys)).Line);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "promote", "--dir", keys, "v2")).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "retire", "--dir", keys, "v1", "--force")).ExitCode);
        result = await Rpctl.RunAsync("token", "verify", "--keys", keys, token);
        Assert.Equal((1, "invalid: unknown_kid"), (result.ExitCode, result.Line));
    }

    [Fact]
    public async Task Verify_AudienceAndIssuerOptions_AreChecked()
    {
        var keys = await InitAsync();
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "j", "--aud", "edge", "--iss", "me")).Line;

        Assert.Equal("invalid: wrong_audience", (await Rpctl.RunAsync("token", "verify", "--keys", keys, token)).Line);
        Assert.Equal("invalid: wrong_issuer", (await Rpctl.RunAsync("token", "verify", "--keys", keys, "--aud", "edge", token)).Line);
        Assert.Equal(0, (await Rpctl.RunAsync("token", "verify", "--keys", keys, "--aud", "edge", "--iss", "me", token)).ExitCode);
    }

    [Fact]
    public async Task Verify_RevokedJti_IsRevoked()
    {
        var keys = await InitAsync();
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "job-1")).Line;
        using var claims = JsonDocument.Parse((await Rpctl.RunAsync("token", "inspect", token)).Stdout);
        var payload = claims.RootElement.GetProperty("payload");
        var revoked = _temp.Combine("revoked.json");

        var revoke = await Rpctl.RunAsync("revoke", "--revoked", revoked, "--jti", payload.GetProperty("jti").GetString()!, "--exp", payload.GetProperty("exp").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), "--sub", "job-1");
        Assert.Equal(0, revoke.ExitCode);

        var result = await Rpctl.RunAsync("token", "verify", "--keys", keys, "--revoked", revoked, token);
        Assert.Equal((1, "invalid: revoked"), (result.ExitCode, result.Line));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("a.b.c")]
    [InlineData("")]
    public async Task Verify_Garbage_IsMalformed(string token)
    {
        var keys = await InitAsync();
        var result = await Rpctl.RunAsync("token", "verify", "--keys", keys, token);
        Assert.Equal((1, "invalid: malformed"), (result.ExitCode, result.Line));
    }

    [Theory]
    [InlineData("token", "verify")]
    [InlineData("token", "verify", "--keys")]
    [InlineData("token", "verify", "--keys", "DIR", "--now", "soon", "t")]
    [InlineData("token", "verify", "--keys", "DIR", "--bogus", "t")]
    [InlineData("token", "mint", "--keys", "DIR")]
    [InlineData("token", "mint", "--keys", "DIR", "--sub", "j", "--ttl", "0")]
    [InlineData("token", "mint", "--keys", "DIR", "--sub", "j", "--ttl", "-5")]
    [InlineData("token", "mint", "--keys", "DIR", "--sub", "j", "--ttl", "300000000000")]
    [InlineData("token", "mint", "--keys", "DIR", "--sub", "j", "--ttl", "9223372036854775807")]
    [InlineData("token", "mint", "--keys", "DIR", "--sub", "j", "--ttl", "1e20")]
    [InlineData("token", "verify", "--keys", "DIR", "--now", "1e13", "t")]
    [InlineData("token", "verify", "--keys", "DIR", "--now", "253402300800", "t")]
    [InlineData("token", "verify", "--keys", "DIR", "--now", "-1e20", "t")]
    [InlineData("token", "verify", "--keys", "DIR", "--leeway", "1e20", "t")]
    [InlineData("prune", "--revoked", "DIR/no-such-list.json", "--now", "1e20")]
    [InlineData("keys", "retire", "--dir", "DIR", "v1", "--now", "1e20")]
    [InlineData("token", "frobnicate")]
    [InlineData("revoke", "--revoked", "x.json", "--jti", "a")]
    public async Task UsageErrors_ExitWith2(params string[] args)
    {
        var keys = await InitAsync();
        var result = await Rpctl.RunAsync(args.Select(a => a.StartsWith("DIR", StringComparison.Ordinal) ? keys + a[3..] : a).ToArray());
        Assert.Equal(2, result.ExitCode);
        Assert.NotEmpty(result.Stderr);
        Assert.DoesNotContain("Unhandled exception", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_RevokedFileMissing_IsEmptyWithAWarning()
    {
        var keys = await InitAsync();
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "j")).Line;

        var result = await Rpctl.RunAsync("token", "verify", "--keys", keys, "--revoked", _temp.Combine("typo.json"), token);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("does not exist", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_MissingKeyFolder_ExitsWith2AndSaysWhy()
    {
        var result = await Rpctl.RunAsync("token", "verify", "--keys", _temp.Combine("missing"), "a.b.c");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("does not exist", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_PrintsHeaderAndPayloadUnverified()
    {
        var keys = await InitAsync();
        var other = await InitAsync("other");
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", other, "--sub", "job-7")).Line;

        var result = await Rpctl.RunAsync("token", "inspect", token);

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal("HS256", json.RootElement.GetProperty("header").GetProperty("alg").GetString());
        Assert.Equal("v1", json.RootElement.GetProperty("header").GetProperty("kid").GetString());
        Assert.Equal("job-7", json.RootElement.GetProperty("payload").GetProperty("sub").GetString());
        Assert.NotNull(keys);
    }

    [Fact]
    public async Task Help_EveryCommand_ExitsZero()
    {
        foreach (var command in new[] { "keys init", "keys add", "keys list", "keys promote", "keys retire", "token mint", "token verify", "token inspect", "revoke", "prune" })
        {
            var result = await Rpctl.RunAsync([.. command.Split(' '), "--help"]);
            Assert.Equal(0, result.ExitCode);
            Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
        }
    }
}
