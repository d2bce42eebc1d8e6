using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>
/// Finding A8 of 2026-12-02: a WebSocket tunnel was authorized once and then relayed after its
/// token was revoked or expired, and a slow streaming answer was held for hours past the token's
/// exp. A relay now lives no longer than its token, nor than REQUESTS_PROXY_MAX_REQUEST_SECONDS.
/// </summary>
public sealed class RelayLifetimeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private static object Routes(ProxyHarness proxy) => new
    {
        Routes = new Dictionary<string, object>
        {
            ["stream"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/v1/jobs/{sub}/stream", Methods = new[] { "GET" } },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "", ["SubjectParameter"] = "sub", ["AllowUpgrade"] = "true" },
            },
            ["catch-all"] = new
            {
                ClusterId = "upstream",
                Match = new { Path = "/{**catch-all}" },
                Metadata = new Dictionary<string, string> { ["RequiredScope"] = "" },
            },
        },
        Clusters = proxy.UpstreamCluster(),
    };

    [Fact]
    public async Task WebSocketTunnel_TokenRevoked_TunnelClosedWithinThePollPeriod()
    {
        await using var proxy = await StartAsync();
        var aborted = EchoTunnel(proxy);
        var token = Token(proxy, "jti-ws", lifetimeSeconds: 3600);
        using var tunnel = await OpenTunnelAsync(proxy, token);

        // The tunnel relays while the token is valid: past the first judgement (1 s) and a bit.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal("ping-1", await EchoAsync(tunnel, "ping-1"));

        Revoke(proxy, "jti-ws");
        var clock = Stopwatch.StartNew();
        await AssertClosedAsync(tunnel);

        Assert.True(clock.Elapsed < Bound, $"tunnel closed {clock.Elapsed} after the revocation");
        Assert.True(await aborted.Task.WaitAsync(Bound), "the upstream side of the tunnel was not closed");
        await AssertCutAsync(proxy, "revoked");
    }

    [Fact]
    public async Task WebSocketTunnel_TokenExpires_TunnelClosedAtExp()
    {
        await using var proxy = await StartAsync();
        EchoTunnel(proxy);
        var exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 4;
        var token = Token(proxy, "jti-ws-exp", lifetimeSeconds: 4);
        using var tunnel = await OpenTunnelAsync(proxy, token);
        Assert.Equal("ping", await EchoAsync(tunnel, "ping"));

        await AssertClosedAsync(tunnel);

        // Leeway 0 here: expired from exp on, judged every second; never before.
        var closedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.True(closedAt >= exp, $"closed at {closedAt}, before exp {exp}");
        Assert.True(closedAt <= exp + Bound.TotalSeconds, $"closed at {closedAt}, exp was {exp}");
        await AssertCutAsync(proxy, "expired");
    }

    [Fact]
    public async Task SlowStreamingAnswer_TokenRevoked_CutMidAnswer()
    {
        await using var proxy = await StartAsync();
        proxy.Upstream.Handler = TrickleAsync;
        var token = Token(proxy, "jti-stream", lifetimeSeconds: 3600);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v1/stream HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer {token}\r\n\r\n"));
        var buffer = new byte[4096];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        Revoke(proxy, "jti-stream");
        var clock = Stopwatch.StartNew();
        await AssertClosedAsync(stream);

        Assert.True(clock.Elapsed < Bound, $"answer cut {clock.Elapsed} after the revocation");
        await AssertCutAsync(proxy, "revoked");
    }

    [Fact]
    public async Task SlowStreamingAnswer_MaxRequestDuration_CutThere()
    {
        await using var proxy = await StartAsync(values => values[EnvironmentVariables.MaxRequestSeconds] = "2");
        proxy.Upstream.Handler = TrickleAsync;
        var token = Token(proxy, "jti-long", lifetimeSeconds: 3600);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
        var stream = client.GetStream();
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v1/stream HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer {token}\r\n\r\n"));

        await AssertClosedAsync(stream);

        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.5), $"cut after {clock.Elapsed}, before the maximum");
        Assert.True(clock.Elapsed < Bound, $"cut after {clock.Elapsed} for a 2 s maximum");
        await AssertCutAsync(proxy, "max_duration");
    }

    [Fact]
    public async Task ShortRequests_ValidToken_NeverCut()
    {
        await using var proxy = await StartAsync();
        var token = Token(proxy, "jti-ok", lifetimeSeconds: 3600);

        for (var i = 0; i < 20; i++)
        {
            var response = await RawHttp.SendAsync(proxy.Address, $"POST /v1/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0");
            Assert.Equal(200, response.Status);
        }

        Assert.DoesNotContain("requests_proxy_relays_cut_total{", await proxy.MetricsAsync(), StringComparison.Ordinal);
    }

    /// <summary>The cut is counted right after the abort the client saw: allow the scrape a moment.</summary>
    private static async Task AssertCutAsync(ProxyHarness proxy, string reason)
    {
        var metrics = "";
        for (var i = 0; i < 50; i++)
        {
            metrics = await proxy.MetricsAsync();
            if (metrics.Split('\n').Any(l => l.StartsWith("requests_proxy_relays_cut_total{", StringComparison.Ordinal) && l.Contains($"reason=\"{reason}\"", StringComparison.Ordinal)))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"no requests_proxy_relays_cut_total{{reason=\"{reason}\"}} in:\n{string.Join('\n', metrics.Split('\n').Where(l => l.Contains("relays", StringComparison.Ordinal) || l.Contains("revoked", StringComparison.Ordinal)))}");
    }

    private static Task<ProxyHarness> StartAsync(Action<Dictionary<string, string?>>? settings = null) =>
        ProxyHarness.StartAsync(settings: values =>
        {
            values[EnvironmentVariables.LeewaySeconds] = "0";
            settings?.Invoke(values);
        }, routes: Routes);

    private static string Token(ProxyHarness proxy, string jti, long lifetimeSeconds) =>
        proxy.Forge(new { alg = "HS256", typ = "JWT", kid = proxy.Keys.Active },
            ProxyHarness.Claims(sub: "job-1", jti: jti, exp: DateTimeOffset.UtcNow.ToUnixTimeSeconds() + lifetimeSeconds));

    private static void Revoke(ProxyHarness proxy, string jti) =>
        proxy.Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = $"[\"{jti}\"]" });

    /// <summary>The upstream answers the upgrade with 101 and echoes the tunnel's bytes; the task completes when its side closes.</summary>
    private static TaskCompletionSource<bool> EchoTunnel(ProxyHarness proxy)
    {
        var closed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        proxy.Upstream.Handler = async context =>
        {
            var upgrade = context.Features.Get<IHttpUpgradeFeature>()!;
            context.Response.Headers.Upgrade = "websocket";
            context.Response.Headers.Connection = "Upgrade";
            await using var tunnel = await upgrade.UpgradeAsync();
            var buffer = new byte[1024];
            try
            {
                int read;
                while ((read = await tunnel.ReadAsync(buffer)) > 0)
                {
                    await tunnel.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            catch (IOException)
            {
            }
            catch (OperationCanceledException)
            {
            }

            closed.TrySetResult(true);
        };
        return closed;
    }

    private static async Task<NetworkStream> OpenTunnelAsync(ProxyHarness proxy, string token)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /v1/jobs/job-1/stream HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer {token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(Bound);
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one, timeout.Token));
            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return stream;
    }

    private static async Task<string> EchoAsync(NetworkStream tunnel, string text)
    {
        await tunnel.WriteAsync(Encoding.ASCII.GetBytes(text));
        var buffer = new byte[text.Length];
        var read = 0;
        using var timeout = new CancellationTokenSource(Bound);
        while (read < buffer.Length)
        {
            var n = await tunnel.ReadAsync(buffer.AsMemory(read), timeout.Token);
            Assert.True(n > 0, "the tunnel closed while the token was valid");
            read += n;
        }

        return Encoding.ASCII.GetString(buffer);
    }

    /// <summary>Reads until the proxy closes the connection (end of stream or reset), within <see cref="Bound"/>.</summary>
    private static async Task AssertClosedAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A reset: closed all the same.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the connection was still open after {Bound}");
        }
    }

    /// <summary>An answer that never ends: a chunk every 200 ms, for up to a minute.</summary>
    private static async Task TrickleAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain";
        for (var i = 0; i < 300 && !context.RequestAborted.IsCancellationRequested; i++)
        {
            await context.Response.WriteAsync("tick\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(200, context.RequestAborted);
        }
    }
}
