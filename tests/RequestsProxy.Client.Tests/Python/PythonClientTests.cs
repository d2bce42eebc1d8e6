using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RequestsProxy.Client.Tests.Python;

/// <summary>
/// clients/python, through the README's test command: pip installs it offline, and each of its
/// unittest tests (real requests-proxy process, real upstream on 127.0.0.1) is one case here.
/// </summary>
public sealed partial class PythonClientTests(PythonSuite suite, ITestOutputHelper output) : IClassFixture<PythonSuite>
{
    public static TheoryData<string> Declared => [.. PythonSuite.DeclaredTests()];

    [Fact]
    public void PipInstall_NoIndex_InstallsThePackageFromTheFolder()
    {
        Assert.True(suite.Install.ExitCode == 0, $"pip install --no-index failed:\n{suite.Install.StandardOutput}\n{suite.Install.StandardError}");
        Assert.True(suite.Imported.ExitCode == 0, suite.Imported.StandardError);
        var lines = suite.Imported.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith(Path.Combine(suite.SitePackages, "requests_proxy_client"), lines[0].Trim(), StringComparison.Ordinal);
        Assert.Equal("0.1.0", lines[1].Trim());
        Assert.Single(Directory.GetDirectories(suite.SitePackages, "requests_proxy_client-0.1.0.dist-info"));
    }

    [Fact]
    public void Unittest_WholeSuite_RanEveryDeclaredTestAndPassed()
    {
        output.WriteLine(suite.Run.StandardError);
        var ran = RanLine().Match(suite.Run.StandardError);
        Assert.True(ran.Success, $"no 'Ran N tests' line:\n{suite.Run.StandardOutput}\n{suite.Run.StandardError}");
        Assert.Equal(PythonSuite.DeclaredTests().Count, int.Parse(ran.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(suite.Run.ExitCode == 0, $"python3 -m unittest exited {suite.Run.ExitCode}:\n{suite.Run.StandardError}");
        Assert.Matches(@"(?m)^OK\s*$", suite.Run.StandardError);
    }

    [Theory]
    [MemberData(nameof(Declared))]
    public void Unittest_Test_Passed(string id)
    {
        Assert.True(suite.Outcomes.TryGetValue(id, out var outcome), $"{id} did not run:\n{suite.Run.StandardError}");
        if (outcome != "ok")
        {
            output.WriteLine(suite.Run.StandardError);
        }

        Assert.Equal("ok", outcome);
    }

    [Fact]
    public void ParseOutcomes_BothVerboseFormats_ReadsEachOutcome()
    {
        var outcomes = PythonSuite.ParseOutcomes("""
            test_a (mod.C.test_a) ... ok
            test_b (mod.C) ... FAIL
            test_c (mod.C.test_c) ... some log line
            ERROR
            test_d (mod.C.test_d) ... skipped 'no'
            """);
        Assert.Equal("ok", outcomes["mod.C.test_a"]);
        Assert.Equal("FAIL", outcomes["mod.C.test_b"]);
        Assert.Equal("ERROR", outcomes["mod.C.test_c"]);
        Assert.Equal("skipped 'no'", outcomes["mod.C.test_d"]);
    }

    [GeneratedRegex(@"(?m)^Ran (\d+) tests? in ")]
    private static partial Regex RanLine();
}
