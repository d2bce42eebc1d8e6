using System.Text.Json;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary><c>rpctl revoke --token</c>: the jti, exp and sub come from the token itself; DESIGN §10's --jti/--exp form still works.</summary>
public sealed class RevokeTokenTests : IDisposable
{
    private readonly TempFolder _temp = new("rp-cli-revoke");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Revoke_Token_EntryFromItsClaims_ThenVerifySaysRevoked(bool fromStdin)
    {
        var keys = _temp.Combine("keys");
        var revoked = _temp.Combine("revoked.json");
        await Rpctl.RunAsync("keys", "init", "--dir", keys);
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "job-42", "--ttl", "3600")).Line;
        using var claims = JsonDocument.Parse((await Rpctl.RunAsync("token", "inspect", token)).Stdout);
        var payload = claims.RootElement.GetProperty("payload");

        var revoke = fromStdin
            ? await Rpctl.RunWithInputAsync(token + "\n", "revoke", "--revoked", revoked, "--token", "-")
            : await Rpctl.RunAsync("revoke", "--revoked", revoked, "--token", token);

        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        var entry = Assert.Single(RevocationFile.Read(revoked).Entries);
        Assert.Equal(payload.GetProperty("jti").GetString(), entry.Jti);
        Assert.Equal(payload.GetProperty("exp").GetInt64(), entry.Exp);
        Assert.Equal("job-42", entry.Sub);
        var verify = await Rpctl.RunAsync("token", "verify", "--keys", keys, "--revoked", revoked, token);
        Assert.Equal((1, "invalid: revoked"), (verify.ExitCode, verify.Line));
    }

    [Theory]
    [InlineData("--token", "a.b.c", "--jti", "x")]
    [InlineData("--token", "not-a-token")]
    [InlineData("--jti", "x")]
    [InlineData("--exp", "1767225600")]
    public async Task Revoke_TokenAndJtiOrNeither_UsageError(params string[] args)
    {
        var result = await Rpctl.RunAsync(["revoke", "--revoked", _temp.Combine("r.json"), .. args]);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("rpctl: ", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.Combine("r.json")));
    }

    [Fact]
    public async Task Revoke_JtiAndExp_DesignFormStillWorks()
    {
        var revoked = _temp.Combine("revoked.json");

        var result = await Rpctl.RunAsync("revoke", "--revoked", revoked, "--jti", "abc", "--exp", "1767225600", "--sub", "job-1");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(("abc", (long?)1767225600L, (string?)"job-1"), RevocationFile.Read(revoked).Entries.Select(e => (e.Jti, e.Exp, e.Sub)).Single());
    }
}
