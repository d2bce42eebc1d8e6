using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using RequestsProxy.Testing.Processes;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>The proxy's access log (event 50): off by default; on, one line per relayed request, sampled 1 in N.</summary>
public sealed class AccessLogTests
{
    [Fact]
    public async Task AccessLog_On_OneLinePerRelayedRequestWithRouteSubJtiStatusDuration()
    {
        await using var proxy = await ProxyProcess.StartAsync(ProxyProcessOptions.CatchAll with { Environment = new Dictionary<string, string?> { ["REQUESTS_PROXY_ACCESS_LOG"] = "true" } });
        var token = proxy.Mint("job-a");

        await SendAsync(proxy, token, 3);
        await SendAsync(proxy, token + "x", 1);

        var lines = await RelayedAsync(proxy, 3);
        Assert.Equal(3, lines.Count);
        var state = lines[0].GetProperty("State");
        Assert.Equal("job-a", state.GetProperty("Sub").GetString());
        Assert.Equal(ProxyScenario.JtiOf(token), state.GetProperty("Jti").GetString());
        Assert.Equal("200", state.GetProperty("Status").ToString());
        Assert.Equal("POST", state.GetProperty("Method").GetString());
        Assert.False(string.IsNullOrEmpty(state.GetProperty("Route").GetString()));
        Assert.True(double.Parse(state.GetProperty("DurationMs").ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 0);
        Assert.DoesNotContain(proxy.Process.OutputLines, l => l.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AccessLog_SampleEveryThird_OneLineInThree()
    {
        await using var proxy = await ProxyProcess.StartAsync(ProxyProcessOptions.CatchAll with { Environment = new Dictionary<string, string?> { ["REQUESTS_PROXY_ACCESS_LOG"] = "true", ["REQUESTS_PROXY_ACCESS_LOG_EVERY"] = "3" } });

        await SendAsync(proxy, proxy.Mint("job-b"), 9);

        Assert.Equal(3, (await RelayedAsync(proxy, 3)).Count);
    }

    [Fact]
    public async Task AccessLog_Default_NoLines()
    {
        await using var proxy = await ProxyProcess.StartAsync(ProxyProcessOptions.CatchAll);

        await SendAsync(proxy, proxy.Mint("job-c"), 3);

        await Task.Delay(500);
        Assert.Empty(Relayed(proxy));
    }

    private static async Task SendAsync(ProxyProcess proxy, string token, int count)
    {
        using var client = new HttpClient { BaseAddress = proxy.Address };
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/results") { Content = new StringContent("{}") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized, response.StatusCode.ToString());
        }
    }

    // Lines are written by the console logger's own thread: wait (bounded) until the expected count has arrived.
    private static async Task<List<JsonElement>> RelayedAsync(ProxyProcess proxy, int expected)
    {
        for (var i = 0; i < 50 && Relayed(proxy).Count < expected; i++)
        {
            await Task.Delay(100);
        }

        await Task.Delay(300);
        return Relayed(proxy);
    }

    private static List<JsonElement> Relayed(ProxyProcess proxy) =>
        [.. proxy.Process.OutputLines
            .Where(l => l.StartsWith('{') && l.Contains("\"EventId\":50", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];
}
