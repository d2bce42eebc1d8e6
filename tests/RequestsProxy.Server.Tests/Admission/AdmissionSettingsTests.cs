using Microsoft.Extensions.Configuration;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Tests.Admission;

/// <summary>The webhook's part of the environment contract: off unless addressed, https only, a port of its own, the judged user required.</summary>
public sealed class AdmissionSettingsTests
{
    [Fact]
    public void Load_Nothing_NoWebhook()
    {
        var settings = ProxySettings.Load(Config(new()));

        Assert.Null(settings.AdmissionUrls);
        Assert.Null(settings.AdmissionJobsManagerUser);
        Assert.Equal("/etc/proxy/webhook-tls", settings.AdmissionTlsDirectory);
    }

    [Fact]
    public void Load_WebhookWithoutTheJobsManagerUser_Refused()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ProxySettings.Load(Config(new() { [EnvironmentVariables.AdmissionUrls] = "https://0.0.0.0:9443" })));

        Assert.Contains(error.Errors, e => e.StartsWith(EnvironmentVariables.AdmissionJobsManagerUser + ": required", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_HttpAdmissionAddress_Refused()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ProxyListeners.Parse("http://0.0.0.0:8888", "ASPNETCORE_URLS", "http://0.0.0.0:9090", "http://0.0.0.0:9443"));

        Assert.Contains(error.Errors, e => e.Contains("only https://host:port addresses", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://0.0.0.0:8888")]
    [InlineData("https://0.0.0.0:9090")]
    public void Parse_AdmissionPortSharedWithAnother_Refused(string admission)
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ProxyListeners.Parse("http://0.0.0.0:8888", "ASPNETCORE_URLS", "http://0.0.0.0:9090", admission));

        Assert.Contains(error.Errors, e => e.Contains("the webhook must have a port of its own", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_AdmissionAddress_Kept()
    {
        var listeners = ProxyListeners.Parse("http://0.0.0.0:8888", "ASPNETCORE_URLS", "http://0.0.0.0:9090", "https://0.0.0.0:9443");

        Assert.Equal(9443, Assert.Single(listeners.AdmissionUrls).Port);
    }

    private static IConfiguration Config(Dictionary<string, string?> values)
    {
        values.TryAdd(EnvironmentVariables.RoutesFile, null);
        return new ConfigurationBuilder().AddInMemoryCollection(values.Where(v => v.Value is not null)).Build();
    }
}
