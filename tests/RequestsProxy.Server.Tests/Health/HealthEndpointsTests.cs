using System.Net;
using RequestsProxy.Server.Tests.Authentication;

namespace RequestsProxy.Server.Tests.Health;

public sealed class HealthEndpointsTests
{
    [Fact]
    public async Task Healthz_Always200()
    {
        await using var proxy = await ProxyHarness.StartAsync(writeKeys: false);

        using var response = await proxy.Management.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_WithoutKeyRing_503_ThenReadyAfterKeysAppear()
    {
        await using var proxy = await ProxyHarness.StartAsync(writeKeys: false);
        using (var before = await proxy.Management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        }

        proxy.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v1", ["v1"] = new string('k', 64) });

        var ready = await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var response = await proxy.Management.GetAsync("/readyz");
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(4));
        Assert.True(ready);
    }

    [Fact]
    public async Task Readyz_InvalidRing_503NamesTheProblem()
    {
        await using var proxy = await ProxyHarness.StartAsync(writeKeys: false);
        proxy.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v2", ["v1"] = new string('k', 64) });
        await Task.Delay(1500);

        using var response = await proxy.Management.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("not ready", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[garbage", "invalid")]
    [InlineData("{\"jti\":\"a\"}", "invalid")]
    public async Task Readyz_CorruptRevocationListAtStart_503AndRequestsRefusedUntilAValidOne(string revokedJson, string reason)
    {
        // A replica restarted onto a broken list must not forget every revocation: fail closed.
        await using var proxy = await ProxyHarness.StartAsync(revokedJson: revokedJson);

        using (var readyz = await proxy.Management.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
            Assert.Contains(reason, await readyz.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var refused = await proxy.PostAsync("/v1/results", proxy.Mint("job-1")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        proxy.Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = "[]" });
        var accepted = await ProxyAuthenticationTests.EventuallyAsync(async () =>
        {
            using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(4));
        Assert.True(accepted);
    }

    [Fact]
    public async Task Readyz_NoRevocationFileYet_ReadyWithTheEmptyList()
    {
        await using var proxy = await ProxyHarness.StartAsync(revokedJson: null);

        using var readyz = await proxy.Management.GetAsync("/readyz");
        using var accepted = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));

        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Readyz_WithKeyRing_200()
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.Management.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
