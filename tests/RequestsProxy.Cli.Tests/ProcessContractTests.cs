using System.Text.Json;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Cli.Tests;

/// <summary>
/// The real <c>dotnet rpctl.dll</c> process, for what only a process shows: exit codes, the first
/// stdout line of DESIGN §10, stdin, and no crash dump. Every other test runs commands in-process.
/// </summary>
public sealed class ProcessContractTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Verify_ValidThenGarbage_Exit0WithClaimsThenExit1Invalid()
    {
        var keys = _temp.Combine("keys");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", keys)).ExitCode);
        var token = (await Rpctl.RunAsync("token", "mint", "--keys", keys, "--sub", "job-42")).Line;

        var valid = await Rpctl.RunProcessWithInputAsync(token + "\n", "token", "verify", "--keys", keys, "-");
        var garbage = await Rpctl.RunProcessAsync("token", "verify", "--keys", keys, "a.b.c");

        Assert.True(valid.ExitCode == 0, valid.ToString());
        using (var claims = JsonDocument.Parse(valid.Stdout))
        {
            Assert.Equal("job-42", claims.RootElement.GetProperty("sub").GetString());
        }

        Assert.Equal(1, garbage.ExitCode);
        Assert.Equal("invalid: malformed", garbage.Stdout.Split('\n')[0]);
    }

    [Theory]
    [InlineData("token", "verify")]
    [InlineData("token", "mint", "--keys", "/nonexistent", "--sub", "j", "--ttl", "1e20")]
    public async Task UsageError_Exit2WithoutACrashDump(params string[] args)
    {
        var result = await Rpctl.RunProcessAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("rpctl: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Stderr, StringComparison.Ordinal);
    }
}
