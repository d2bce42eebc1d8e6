using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Cli.Tests.Packaging;

/// <summary>
/// rpctl as one executable to copy onto a bastion host: the framework-dependent single-file publish
/// that docs/cli.md gives, built with the SDK alone, runs from an empty folder.
/// </summary>
public sealed class SingleFileTests
{
    [Fact]
    public async Task PublishSingleFile_AsDocumented_OneExecutableThatRunsAlone()
    {
        using var folder = new TempFolder("rp-single");
        var output = folder.Combine("rpctl-linux-x64");
        var project = Path.Combine(RepositoryRoot.Path, "src", "RequestsProxy.Cli", "RequestsProxy.Cli.csproj");
        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;

        var publish = await ToolProcess.RunAsync("dotnet",
            ["publish", project, "-c", "Release", "-r", rid, "--self-contained", "false", "-p:PublishSingleFile=true", "-o", output],
            folder.Path, timeout: TimeSpan.FromMinutes(10));
        Assert.True(publish.Succeeded, publish.StandardOutput + publish.StandardError);

        // One executable; the rest is debug symbols.
        Assert.Equal(["rpctl"], Directory.GetFiles(output).Select(Path.GetFileName).Where(f => !f!.EndsWith(".pdb", StringComparison.Ordinal)));

        // Copied away from the build, as onto another host.
        var copy = folder.Combine("elsewhere", "rpctl");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(Path.Combine(output, "rpctl"), copy); // keeps the execute bit on Unix
        var version = await ToolProcess.RunAsync(copy, ["--version"], folder.Path);
        Assert.Equal(0, version.ExitCode);
        Assert.Equal(VersionTests.SourceVersion(), version.StandardOutput.Trim());
        var init = await ToolProcess.RunAsync(copy, ["keys", "init", "--dir", folder.Combine("keys")], folder.Path);
        Assert.True(init.Succeeded, init.StandardError);
        Assert.Equal("v1", File.ReadAllText(folder.Combine("keys", "active")).Trim());
    }
}
