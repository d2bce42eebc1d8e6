using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Demo.Tests;

/// <summary>The README's main command, end to end: the real demo starts the real services, rpctl and jobs.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_Stateless_HoldsThePromise()
    {
        var result = await RunAsync("--duration", "20", "--jobs", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("0", Value(result.StandardOutput, "refused with a valid token"));
        Assert.NotEqual("0", Value(result.StandardOutput, "accepted (2xx)"));
        Assert.Matches(@"v1 → v2", result.StandardOutput);
        Assert.Contains("The promise held", result.StandardOutput, StringComparison.Ordinal);
        // Results counted once by the upstream (subject + Idempotency-Key), through the SIGKILL.
        Assert.Contains("✓ unique results at the upstream", result.StandardOutput, StringComparison.Ordinal);
        // ✓ means: every accepted result there once, nothing else but results sent as their job was stopped.
        Assert.DoesNotContain("✗", result.StandardOutput, StringComparison.Ordinal);
        _ = Value(result.StandardOutput, "duplicates suppressed");
    }

    [Fact]
    public async Task Demo_Legacy_ShowsTheRefusalsOfARestart()
    {
        var result = await RunAsync("--legacy", "--duration", "20", "--jobs", "2");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.True(long.Parse(Value(result.StandardOutput, "refused with a valid token").Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture) > 0, result.ToString());
        Assert.Contains("legacy design", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_Cutover_FlipsWithJobsRunning_AndHoldsThePromise()
    {
        var result = await RunAsync("--cutover", "--duration", "20", "--jobs", "2");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("CUTOVER legacy → stateless", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("0", Value(result.StandardOutput, "refused with a valid token"));
        // Both kinds of token carried results: the jobs started legacy and moved to their JWTs.
        Assert.NotEqual("0", Value(result.StandardOutput, "accepted with legacy opaque tokens"));
        Assert.NotEqual("0", Value(result.StandardOutput, "accepted with v1 tokens"));
        Assert.StartsWith("refused", Value(result.StandardOutput, "old legacy token after its grace"), StringComparison.Ordinal);
        Assert.Contains("The promise held", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("✗", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_BadFlags_AreUsageErrors()
    {
        Assert.Equal(2, (await RunAsync("--jobs", "1")).ExitCode);
        Assert.Equal(2, (await RunAsync("--duration", "5")).ExitCode);
        Assert.Equal(2, (await RunAsync("--legacy", "--cutover")).ExitCode);
    }

    private static Task<ToolResult> RunAsync(params string[] arguments) =>
        ToolProcess.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "requests-proxy-demo.dll"), .. arguments], timeout: TimeSpan.FromMinutes(3));

    /// <summary>The value cell of the summary row whose label starts with <paramref name="label"/>.</summary>
    private static string Value(string stdout, string label)
    {
        var row = stdout.Split('\n').FirstOrDefault(l => l.Contains(label, StringComparison.Ordinal)) ?? throw new Xunit.Sdk.XunitException($"no row '{label}' in:\n{stdout}");
        var cells = row.Split('│', StringSplitOptions.TrimEntries);
        return cells.Length > 2 ? cells[2] : throw new Xunit.Sdk.XunitException($"row '{row}' has no value cell");
    }
}
