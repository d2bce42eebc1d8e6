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

    private static JobsManagerOptions Load(Dictionary<string, string?> values) =>
        JobsManagerOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
}
