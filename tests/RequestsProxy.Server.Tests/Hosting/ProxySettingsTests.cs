using Microsoft.Extensions.Configuration;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Tests.Hosting;

public sealed class ProxySettingsTests
{
    [Fact]
    public void Load_Nothing_DocumentedDefaults()
    {
        var settings = ProxySettings.Load(Config(new() { [EnvironmentVariables.RoutesFile] = null }));

        Assert.True(settings.Stateless);
        Assert.Equal("/etc/proxy/keys", settings.KeysDirectory);
        Assert.Equal("/etc/proxy/revoked", settings.RevokedDirectory);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.KeysPollInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.RevokedPollInterval);
        Assert.Equal("/etc/proxy/admin/token", settings.AdminTokenFile);
        Assert.Equal("requests-proxy", settings.Validation.Audience);
        Assert.Equal("jobs-manager", settings.Validation.Issuer);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Validation.Leeway);
        Assert.Equal(10 * 1024 * 1024, settings.MaxRequestBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(100), settings.UpstreamTimeout);
        Assert.Equal(TimeSpan.FromSeconds(25), settings.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(600), settings.MaxRequestDuration);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("90", 90)]
    [InlineData("1.5", 1.5)]
    public void Load_MaxRequestSeconds_ZeroTurnsTheBoundOff(string value, double seconds)
    {
        var settings = ProxySettings.Load(Config(new() { [EnvironmentVariables.RoutesFile] = null, [EnvironmentVariables.MaxRequestSeconds] = value }));

        Assert.Equal(TimeSpan.FromSeconds(seconds), settings.MaxRequestDuration);
    }

    [Fact]
    public void Load_MaxRequestSecondsNegative_Refused()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ProxySettings.Load(Config(new()
        {
            [EnvironmentVariables.RoutesFile] = null,
            [EnvironmentVariables.MaxRequestSeconds] = "-1",
        })));

        Assert.Contains(error.Errors, e => e.StartsWith(EnvironmentVariables.MaxRequestSeconds, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_AdminTargetNames_DnsHostPortsOnly()
    {
        var settings = ProxySettings.Load(Config(new() { [EnvironmentVariables.AdminTargetNames] = " rp-requests-proxy.ml.svc:8888 , rp-requests-proxy:8888" }));
        var error = Assert.Throws<InvalidSettingsException>(() => ProxySettings.Load(Config(new()
        {
            // An IP is always the connection's own address, never a name to trust; a name needs its port.
            [EnvironmentVariables.AdminTargetNames] = "10.0.0.1:8888,[fd00::1]:8888,rp-requests-proxy,name:0,bad name:8888",
        })));

        Assert.Equal(["rp-requests-proxy.ml.svc:8888", "rp-requests-proxy:8888"], settings.AdminTargetNames);
        Assert.Equal(5, error.Errors.Count);
        Assert.All(error.Errors, e => Assert.StartsWith(EnvironmentVariables.AdminTargetNames, e, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_EveryBadValue_AllReportedTogether()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ProxySettings.Load(Config(new()
        {
            [EnvironmentVariables.Stateless] = "maybe",
            [EnvironmentVariables.KeysPollSeconds] = "0",
            [EnvironmentVariables.Upstream] = "not a url",
            [EnvironmentVariables.MaxBodyBytes] = "-5",
            [EnvironmentVariables.RoutesFile] = "/nonexistent/routes.json",
        })));

        Assert.Equal(5, error.Errors.Count);
    }

    [Fact]
    public void Load_LegacyAndOverrides_Read()
    {
        var settings = ProxySettings.Load(Config(new()
        {
            [EnvironmentVariables.Stateless] = "False",
            [EnvironmentVariables.KeysPollSeconds] = "2",
            [EnvironmentVariables.LeewaySeconds] = "0",
            [EnvironmentVariables.Upstream] = "http://edge.example:8080/base",
        }));

        Assert.False(settings.Stateless);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.KeysPollInterval);
        Assert.Equal(TimeSpan.Zero, settings.Validation.Leeway);
        Assert.Equal("edge.example", settings.Upstream!.Host);
    }

    private static IConfiguration Config(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
