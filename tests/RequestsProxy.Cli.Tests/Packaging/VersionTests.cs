using System.Reflection;
using System.Text.RegularExpressions;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Cli.Tests.Packaging;

/// <summary>
/// One version everywhere: Directory.Build.props is the source; the chart's version and appVersion (which the image
/// tags default to), every assembly and <c>rpctl --version</c> must say the same.
/// </summary>
public sealed partial class VersionTests
{
    public static string SourceVersion()
    {
        var props = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "Directory.Build.props"));
        var match = VersionElement().Match(props);
        Assert.True(match.Success, "Directory.Build.props has no <Version>");
        return match.Groups[1].Value;
    }

    [Fact]
    public void Chart_VersionAndAppVersion_EqualTheSourceVersion()
    {
        var version = SourceVersion();
        var chart = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "deploy", "charts", "requests-proxy", "Chart.yaml"));

        Assert.Equal(version, ChartField("version").Match(chart).Groups[1].Value);
        Assert.Equal(version, ChartField("appVersion").Match(chart).Groups[1].Value);
    }

    [Theory]
    [InlineData("rpctl")]
    [InlineData("RequestsProxy.Tokens")]
    [InlineData("jobs-manager")]
    [InlineData("RequestsProxy.JobsApi")]
    [InlineData("RequestsProxy.Settings")]
    public void Assembly_Versions_EqualTheSourceVersion(string name)
    {
        var version = SourceVersion();
        var path = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        Assert.True(File.Exists(path), $"{name}.dll is not beside the tests");

        var assembly = Assembly.LoadFile(path);

        Assert.Equal(version, assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
        Assert.Equal(new Version(version + ".0"), AssemblyName.GetAssemblyName(path).Version);
    }

    [Fact]
    public async Task Rpctl_Version_PrintsTheSourceVersion()
    {
        // A real process: in-process, the entry assembly would be the test host.
        var result = await Rpctl.RunProcessAsync("--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(SourceVersion(), result.Line);
    }

    [GeneratedRegex(@"<Version>([^<]+)</Version>")]
    private static partial Regex VersionElement();

    private static Regex ChartField(string field) => new($"^{field}:\\s*\"?([^\"\\s]+)\"?\\s*$", RegexOptions.Multiline);
}
