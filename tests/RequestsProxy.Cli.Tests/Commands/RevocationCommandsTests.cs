using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Cli.Tests.Commands;

public sealed class RevocationCommandsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Revoke_AppendsObjectEntries_PruneDropsOnlyExpired()
    {
        var file = _temp.Combine("revoked.json");
        File.WriteAllText(file, "[\"legacy-jti\"]");

        Assert.Equal(0, (await Rpctl.RunAsync("revoke", "--revoked", file, "--jti", "a", "--exp", "1000", "--sub", "job-1")).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("revoke", "--revoked", file, "--jti", "b", "--exp", "5000")).ExitCode);
        Assert.Equal(0, (await Rpctl.RunAsync("revoke", "--revoked", file, "--jti", "a", "--exp", "1000")).ExitCode);

        var list = RevocationFile.Read(file);
        Assert.Equal(["legacy-jti", "a", "b"], list.Entries.Select(e => e.Jti));
        Assert.Equal(new RevocationEntry("a", 1000, "job-1"), list.Entries[1]);

        var prune = await Rpctl.RunAsync("prune", "--revoked", file, "--now", "1030");
        Assert.Equal(0, prune.ExitCode);
        Assert.Equal("pruned 1 entries; 2 remain", prune.Line);
        Assert.Equal(["legacy-jti", "b"], RevocationFile.Read(file).Entries.Select(e => e.Jti));

        Assert.Equal("pruned 0 entries; 2 remain", (await Rpctl.RunAsync("prune", "--revoked", file, "--now", "1029")).Line);
    }

    [Fact]
    public async Task Revoke_CorruptFile_ExitsWith2AndLeavesItUntouched()
    {
        var file = _temp.Combine("revoked.json");
        File.WriteAllText(file, "[\"a\", {");
        var result = await Rpctl.RunAsync("revoke", "--revoked", file, "--jti", "b", "--exp", "1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("invalid", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("[\"a\", {", File.ReadAllText(file));
    }

    [Fact]
    public async Task Revoke_MissingFile_IsCreated()
    {
        var file = _temp.Combine("sub", "revoked.json");
        Assert.Equal(0, (await Rpctl.RunAsync("revoke", "--revoked", file, "--jti", "x", "--exp", "99")).ExitCode);
        Assert.Equal(1, RevocationFile.Read(file).Count);
    }
}
