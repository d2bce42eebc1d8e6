using Microsoft.Extensions.Configuration;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Settings;

namespace RequestsProxy.JobsManager.Tests;

/// <summary>The jobs-manager's half of the shared environment contract (the proxy's tests run the same table).</summary>
public sealed class EnvironmentContractTests
{
    [Theory]
    [MemberData(nameof(EnvironmentContractCases.Flags), MemberType = typeof(EnvironmentContractCases))]
    public void FromConfiguration_StatelessSpelling_ReadAsTheProxyReadsIt(string value, bool expected)
    {
        Assert.Equal(expected, Load(new() { [EnvironmentVariables.Stateless] = value }).Stateless);
    }

    [Theory]
    [MemberData(nameof(EnvironmentContractCases.Leeways), MemberType = typeof(EnvironmentContractCases))]
    public void FromConfiguration_LeewaySeconds_FractionsRead(string value, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Load(new() { [EnvironmentVariables.LeewaySeconds] = value }).Leeway);
    }

    [Fact]
    public void FromConfiguration_ThreeBadValues_AllReportedAtOnce()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => Load(new(EnvironmentContractCases.BadValues)));

        Assert.Equal(EnvironmentContractCases.BadValueErrors.Count, error.Errors.Count);
        foreach (var expected in EnvironmentContractCases.BadValueErrors)
        {
            Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void FromConfiguration_JobNamespaces_ListInOrderFirstIsTheDefault()
    {
        var options = Load(new() { [EnvironmentVariables.Namespace] = "rp", [EnvironmentVariables.JobNamespaces] = " rp-jobs , team-b,rp-jobs" });

        Assert.Equal(["rp-jobs", "team-b"], options.EffectiveJobNamespaces);
        Assert.Equal("rp-jobs", options.DefaultJobNamespace);
    }

    [Fact]
    public void FromConfiguration_JobNamespacesUnset_TheJobsManagersOwnNamespace()
    {
        var options = Load(new() { [EnvironmentVariables.Namespace] = "rp" });

        Assert.Equal(["rp"], options.EffectiveJobNamespaces);
    }

    [Fact]
    public void FromConfiguration_JobNamespaceNotADnsLabel_RefusedNamingIt()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => Load(new() { [EnvironmentVariables.JobNamespaces] = "ok,Bad_Name" }));

        Assert.Contains(error.Errors, e => e.Contains("'Bad_Name' in JOBS_MANAGER_JOB_NAMESPACES is not a namespace name", StringComparison.Ordinal));
    }

    private static JobsManagerOptions Load(Dictionary<string, string?> values) =>
        JobsManagerOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
}
