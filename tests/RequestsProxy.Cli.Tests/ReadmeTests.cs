using System.Text.RegularExpressions;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Cli.Tests;

/// <summary>The README's "rpctl in one minute" block, extracted from README.md and run verbatim with bash.</summary>
public sealed partial class ReadmeTests : IDisposable
{
    private readonly TempFolder _temp = new("rp-readme");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task RpctlInOneMinute_RunVerbatim_EndsWithExit1InvalidRevoked()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md"));
        var section = readme[readme.IndexOf("## rpctl in one minute", StringComparison.Ordinal)..];
        var block = ShellBlock().Match(section);
        Assert.True(block.Success, "no ```sh block under '## rpctl in one minute'");
        var script = _temp.Combine("block.sh");
        await File.WriteAllTextAsync(script, block.Groups[1].Value);

        // The block's first line prefers an installed rpctl: this one is the tests' build, as an installed tool would be
        // (the `dotnet run` fallback would rebuild the project under the other tests' feet).
        var bin = _temp.Combine("bin");
        Directory.CreateDirectory(bin);
        var rpctl = Path.Combine(bin, "rpctl");
        await File.WriteAllTextAsync(rpctl, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "rpctl.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(rpctl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var scratch = _temp.Combine("tmp");
        Directory.CreateDirectory(scratch);
        var before = RootEntries();

        var result = await ToolProcess.RunAsync("bash", ["--norc", "--noprofile", script], RepositoryRoot.Path, new Dictionary<string, string>
        {
            ["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
            ["TMPDIR"] = scratch,
        }, TimeSpan.FromMinutes(5));

        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}\n{result.StandardOutput}\n{result.StandardError}");
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("invalid: revoked", lines[^1]);
        Assert.Contains("refusing to retire 'v1'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("\"sub\": \"job-42\"", StringComparison.Ordinal));
        // Everything went to the scratch folder; the clone is as it was.
        Assert.Equal(before, RootEntries());
        var folder = Assert.Single(Directory.GetDirectories(scratch));
        Assert.True(File.Exists(Path.Combine(folder, "revoked.json")));
        Assert.True(File.Exists(Path.Combine(folder, "keys", "v2")));
    }

    private static string[] RootEntries() => [.. Directory.GetFileSystemEntries(RepositoryRoot.Path).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();
}
