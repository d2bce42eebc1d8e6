using System.Reflection;
using System.Text.RegularExpressions;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>The two services carry the one version of Directory.Build.props (the chart's appVersion, the image tag).</summary>
public sealed partial class ServiceVersionTests
{
    [Theory]
    [InlineData("requests-proxy")]
    [InlineData("jobs-manager")]
    public void Assembly_InformationalVersion_IsTheSourceVersion(string assembly)
    {
        var props = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "Directory.Build.props"));
        var version = VersionElement().Match(props).Groups[1].Value;

        var informational = Assembly.LoadFile(ServiceProcess.FindAssembly(assembly)).GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;

        Assert.Equal(version, informational);
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();
}
