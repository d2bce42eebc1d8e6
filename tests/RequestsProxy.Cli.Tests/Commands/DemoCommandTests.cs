using System.Reflection;
using RequestsProxy.Cli.Commands;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary>
/// <c>rpctl demo</c> hands over to the demo program; the demo's own tests run the scenario itself
/// (through <c>requests-proxy-demo.dll</c>, the program this resolves to).
/// </summary>
public sealed class DemoCommandTests
{
    [Fact]
    public void StartInfo_InASourceTree_RunsTheDemoProjectWithTheArgumentsUnchanged()
    {
        // rpctl.dll beside these tests is inside the clone, as src/RequestsProxy.Cli/bin/… is.
        var info = DemoCommand.StartInfo(["--jobs", "5", "--legacy"]);

        Assert.Equal("dotnet", Path.GetFileNameWithoutExtension(info.FileName));
        Assert.Equal(
            ["run", "--project", Path.Combine(RepositoryRoot.Path, DemoCommand.DemoProject), "--configuration", Configuration, "--", "--jobs", "5", "--legacy"],
            info.ArgumentList);
    }

    /// <summary>
    /// An installed tool lives under ~/.dotnet/tools/.store, outside any clone: run from the clone
    /// (its root, a project folder, docs/), it still finds the demo project, as docs/cli.md says.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("src/RequestsProxy.Cli")]
    [InlineData("docs")]
    public void StartInfo_InstalledToolRunFromAClone_RunsTheClonesDemoProject(string inClone)
    {
        using var store = new TempFolder("rp-tool-store");

        var info = DemoCommand.StartInfo(["--duration", "5"], store.Path, Path.Combine(RepositoryRoot.Path, inClone));

        Assert.Equal(
            ["run", "--project", Path.Combine(RepositoryRoot.Path, DemoCommand.DemoProject), "--configuration", Configuration, "--", "--duration", "5"],
            info.ArgumentList);
    }

    [Fact]
    public void StartInfo_InstalledToolOutsideAnyClone_SaysWhereToRunIt()
    {
        using var store = new TempFolder("rp-tool-store");
        using var elsewhere = new TempFolder("rp-elsewhere");

        var error = Assert.Throws<CliException>(() => DemoCommand.StartInfo([], store.Path, elsewhere.Path));

        Assert.Contains(elsewhere.Path, error.Message);
        Assert.Contains("from a clone", error.Message);
    }

    /// <summary>The configuration rpctl was built in (Debug or Release): the demo runs in the same.</summary>
    private static string Configuration => typeof(DemoCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
}
