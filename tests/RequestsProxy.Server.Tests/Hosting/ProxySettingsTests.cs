using Microsoft.Extensions.Configuration;
using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Tests.Hosting;

public sealed class ProxySettingsTests
{
    [Fact]
    public void Load_Nothing_DocumentedDefaults()
    {
        var settings = ProxySettings.Load(Config(new() { [EnvironmentNames.RoutesFile] = null }));

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
    }

    [Fact]
    public void Load_EveryBadValue_AllReportedTogether()
    {
        var error = Assert.Throws<ProxyConfigurationException>(() => ProxySettings.Load(Config(new()
        {
            [EnvironmentNames.Stateless] = "maybe",
            [EnvironmentNames.KeysPollSeconds] = "0",
            [EnvironmentNames.Upstream] = "not a url",
            [EnvironmentNames.MaxBodyBytes] = "-5",
            [EnvironmentNames.RoutesFile] = "/nonexistent/routes.json",
        })));

        Assert.Equal(5, error.Errors.Count);
    }

    [Fact]
    public void Load_LegacyAndOverrides_Read()
    {
        var settings = ProxySettings.Load(Config(new()
        {
            [EnvironmentNames.Stateless] = "False",
            [EnvironmentNames.KeysPollSeconds] = "2",
            [EnvironmentNames.LeewaySeconds] = "0",
            [EnvironmentNames.Upstream] = "http://edge.example:8080/base",
        }));

        Assert.False(settings.Stateless);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.KeysPollInterval);
        Assert.Equal(TimeSpan.Zero, settings.Validation.Leeway);
        Assert.Equal("edge.example", settings.Upstream!.Host);
    }

    private static IConfiguration Config(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
