using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Cli.Tests.Packaging;

/// <summary>
/// rpctl ships as a .NET tool: <c>dotnet pack</c> gives RequestsProxy.Rpctl.&lt;version&gt;.nupkg, and
/// <c>dotnet tool install --add-source</c> from that folder alone gives a working <c>rpctl</c> command.
/// </summary>
public sealed class ToolPackageTests
{
    [Fact]
    public async Task PackThenToolInstall_FromTheFolderAlone_RpctlRunsWithTheSourceVersion()
    {
        using var folder = new TempFolder("rp-tool");
        var packages = folder.Combine("packages");
        var tools = folder.Combine("tools");
        var version = VersionTests.SourceVersion();
        // The test's own build of rpctl (same configuration), so the pack does not build again.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var project = Path.Combine(RepositoryRoot.Path, "src", "RequestsProxy.Cli", "RequestsProxy.Cli.csproj");

        var pack = await ToolProcess.RunAsync("dotnet", ["pack", project, "--no-build", "-c", configuration, "-o", packages], folder.Path, timeout: TimeSpan.FromMinutes(10));
        Assert.True(pack.Succeeded, pack.StandardOutput + pack.StandardError);
        var package = Path.Combine(packages, $"RequestsProxy.Rpctl.{version}.nupkg");
        Assert.True(File.Exists(package), string.Join(", ", Directory.GetFiles(packages)));

        // Only that folder as a source: nothing comes from a registry.
        var config = folder.Combine("nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        var install = await ToolProcess.RunAsync("dotnet",
            ["tool", "install", "RequestsProxy.Rpctl", "--tool-path", tools, "--add-source", packages, "--configfile", config, "--version", version],
            folder.Path, timeout: TimeSpan.FromMinutes(5));
        Assert.True(install.Succeeded, install.StandardOutput + install.StandardError);

        var rpctl = Path.Combine(tools, "rpctl");
        var printed = await ToolProcess.RunAsync(rpctl, ["--version"], folder.Path);
        Assert.Equal(0, printed.ExitCode);
        Assert.Equal(version, printed.StandardOutput.Trim());
        var init = await ToolProcess.RunAsync(rpctl, ["keys", "init", "--dir", folder.Combine("keys")], folder.Path);
        Assert.True(init.Succeeded, init.StandardError);
        Assert.Equal("v1", File.ReadAllText(folder.Combine("keys", "active")).Trim());
    }
}
