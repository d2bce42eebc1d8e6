using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Tests.Hosting;

/// <summary>The connection cap and the per-connection idle timeout (Kestrel limits, configured by the proxy's settings).</summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task Connections_BeyondTheCap_AreClosedWhileTheManagementPortStillAnswers()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_CONNECTIONS"] = "3");
        var token = proxy.Mint("job-1");
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = await HoldAsync(proxy, held);
                Assert.Equal(200, await SendOnAsync(client, token));
            }

            using var extra = new TcpClient();
            await extra.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
            Assert.Equal(0, await SendOnAsync(extra, token));

            using var health = await proxy.Management.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

            held[0].Dispose();
            held.RemoveAt(0);
            var admitted = await Authentication.ProxyAuthenticationTests.EventuallyAsync(async () =>
            {
                using var again = new TcpClient();
                await again.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
                return await SendOnAsync(again, token) == 200;
            }, TimeSpan.FromSeconds(5));
            Assert.True(admitted);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    /// <summary>
    /// Found by the outside attack: one client holding the whole cap of idle connections locked
    /// every other job out of the replica. With a per-client cap, another address still gets in.
    /// </summary>
    [Theory]
    // As found: idle connections, never a byte sent.
    [InlineData("idle")]
    // More ways to hold a connection: a request line and never the end of the headers (slowloris),
    // and keep-alive connections after one answered request.
    [InlineData("slowloris")]
    [InlineData("keep-alive")]
    public async Task Connections_OneClientOverItsCap_ClosedWhileAnotherClientGetsIn(string hold)
    {
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            s["REQUESTS_PROXY_MAX_CONNECTIONS"] = "10";
            s["REQUESTS_PROXY_MAX_CONNECTIONS_PER_CLIENT"] = "3";
        });
        var token = proxy.Mint("job-1");
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = await HoldAsync(proxy, held);
                switch (hold)
                {
                    case "slowloris":
                        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /v1/results HTTP/1.1\r\nHost: proxy\r\n"));
                        break;
                    case "keep-alive":
                        Assert.Equal(200, await SendOnAsync(client, token));
                        break;
                }
            }

            // Connections are counted as Kestrel dispatches them, not in the order they connected: wait until the
            // three held ones are counted, or the fourth may be counted first and one held one closed instead
            // (seen once in the CI of 2026-12-02: the fourth got a 200).
            var limit = proxy.App.Services.GetRequiredService<ClientConnectionLimit>();
            Assert.True(await Authentication.ProxyAuthenticationTests.EventuallyAsync(
                () => Task.FromResult(limit.OpenFrom(IPAddress.Loopback) == 3), TimeSpan.FromSeconds(5)));

            using var fourth = new TcpClient();
            await fourth.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
            Assert.Equal(0, await SendOnAsync(fourth, token));

            using var neighbour = new TcpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            await neighbour.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
            Assert.Equal(200, await SendOnAsync(neighbour, proxy.Mint("job-2")));
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task IdleConnection_IsClosedAfterTheIdleTimeout()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_IDLE_TIMEOUT_SECONDS"] = "1");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
        Assert.Equal(200, await SendOnAsync(client, proxy.Mint("job-1")));

        // Kestrel checks timeouts on a 1 s heartbeat: closed within a few seconds, not Kestrel's default 130 s.
        var stream = client.GetStream();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        while (await stream.ReadAsync(buffer, cancel.Token) > 0)
        {
            // the rest of the response, if it came in several reads
        }

        Assert.False(cancel.IsCancellationRequested);
    }

    [Theory]
    [InlineData("REQUESTS_PROXY_MAX_CONNECTIONS", "0")]
    [InlineData("REQUESTS_PROXY_MAX_CONNECTIONS", "many")]
    [InlineData("REQUESTS_PROXY_IDLE_TIMEOUT_SECONDS", "0")]
    [InlineData("REQUESTS_PROXY_MAX_CONNECTIONS_PER_CLIENT", "-1")]
    [InlineData("REQUESTS_PROXY_MAX_CONNECTIONS_PER_CLIENT", "some")]
    public async Task Build_BadLimit_IsAConfigurationError(string key, string value)
    {
        var error = await Assert.ThrowsAsync<RequestsProxy.Settings.InvalidSettingsException>(() => ProxyHarness.StartAsync(s => s[key] = value));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A new connection to the pod-facing port, kept in <paramref name="held"/> (disposed by the test).</summary>
    private static async Task<TcpClient> HoldAsync(ProxyHarness proxy, List<TcpClient> held)
    {
        var client = new TcpClient();
        held.Add(client);
        await client.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
        return client;
    }

    /// <summary>One keep-alive request on an open connection; the status, or 0 when the server closed it instead.</summary>
    private static async Task<int> SendOnAsync(TcpClient client, string token)
    {
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v1/results HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer {token}\r\n\r\n"));
            var buffer = new byte[4096];
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var read = await stream.ReadAsync(buffer, cancel.Token);
            var text = Encoding.ASCII.GetString(buffer, 0, read);
            return text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
