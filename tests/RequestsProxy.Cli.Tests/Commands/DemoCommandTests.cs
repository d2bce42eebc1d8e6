using System.Reflection;
using RequestsProxy.Cli.Commands;
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

    /// <summary>The configuration rpctl was built in (Debug or Release): the demo runs in the same.</summary>
    private static string Configuration => typeof(DemoCommand).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
}
