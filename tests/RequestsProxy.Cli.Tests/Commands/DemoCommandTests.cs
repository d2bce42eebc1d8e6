namespace RequestsProxy.Cli.Tests.Commands;

/// <summary><c>rpctl demo</c> runs the demo project of the source tree (the demo's own tests run the scenario itself).</summary>
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_FromTheSourceTree_RunsTheDemoWithItsArgumentsAndExitCode()
    {
        // One job is refused by the demo itself (one of them is stopped mid-run): its message and exit code come through rpctl.
        var result = await Rpctl.RunSlowAsync(TimeSpan.FromMinutes(4), "demo", "--jobs", "1");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("demo: --jobs must be between 2 and 20", result.Stderr, StringComparison.Ordinal);
    }
}
