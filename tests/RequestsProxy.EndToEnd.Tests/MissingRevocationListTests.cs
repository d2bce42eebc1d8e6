using RequestsProxy.Testing.Processes;
namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// No revoked.json at all (a laptop, a fresh local setup) is the empty list: the real proxy is ready and, polls later,
/// has logged no error and counted no reload failure — the alert on that counter must not fire on a healthy setup.
/// </summary>
public sealed class MissingRevocationListTests
{
    [Fact]
    public async Task Proxy_NoRevocationFileEver_ReadyAndNoErrorOrFailureAfterSeveralPolls()
    {
        await using var proxy = await ProxyProcess.StartAsync(ProxyProcessOptions.CatchAll with { RevocationList = false });

        // Several poll periods (1 s each here; 10 s by default) with the file still absent.
        await Task.Delay(TimeSpan.FromSeconds(4));
        using var client = new HttpClient();
        var metrics = (await client.GetStringAsync(new Uri(proxy.Management, "/metrics"))).Split('\n');
        using var ready = await client.GetAsync(new Uri(proxy.Management, "/readyz"));

        Assert.True(ready.IsSuccessStatusCode, $"readyz {(int)ready.StatusCode}");
        Assert.Contains(metrics, l => l.StartsWith("requests_proxy_revocations_ready", StringComparison.Ordinal) && l.Split(' ')[^1] == "1");
        Assert.Equal("0", metrics.Single(l => l.StartsWith("requests_proxy_revocations_reload_failures_total", StringComparison.Ordinal)).Split(' ')[^1]);
        Assert.DoesNotContain(proxy.Process.OutputLines, l => l.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal));
        Assert.DoesNotContain(proxy.Process.OutputLines, l => l.Contains("does not exist", StringComparison.Ordinal));
    }
}
