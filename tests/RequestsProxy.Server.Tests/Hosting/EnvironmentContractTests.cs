using Microsoft.Extensions.Configuration;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Settings;

namespace RequestsProxy.Server.Tests.Hosting;

/// <summary>The proxy's half of the shared environment contract (the jobs-manager's tests run the same table).</summary>
public sealed class EnvironmentContractTests
{
    [Theory]
    [MemberData(nameof(EnvironmentContractCases.Flags), MemberType = typeof(EnvironmentContractCases))]
    public void Load_StatelessSpelling_ReadAsTheJobsManagerReadsIt(string value, bool expected)
    {
        Assert.Equal(expected, Load(new() { [EnvironmentVariables.Stateless] = value }).Stateless);
    }

    [Theory]
    [MemberData(nameof(EnvironmentContractCases.Leeways), MemberType = typeof(EnvironmentContractCases))]
    public void Load_LeewaySeconds_FractionsRead(string value, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Load(new() { [EnvironmentVariables.LeewaySeconds] = value }).Validation.Leeway);
    }

    [Fact]
    public void Load_ThreeBadValues_AllReportedAtOnce()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => Load(new(EnvironmentContractCases.BadValues)));

        Assert.Equal(EnvironmentContractCases.BadValueErrors.Count, error.Errors.Count);
        foreach (var expected in EnvironmentContractCases.BadValueErrors)
        {
            Assert.Contains(error.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    private static ProxySettings Load(Dictionary<string, string?> values)
    {
        values.TryAdd(EnvironmentVariables.RoutesFile, null);
        return ProxySettings.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }
}
