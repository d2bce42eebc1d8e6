using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Legacy;

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
        using var cuts = Cuts(proxy);
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
        await AssertCutAsync(cuts, "revoked");
    }

    [Fact]
    public async Task WebSocketTunnel_TokenExpires_TunnelClosedAtExp()
    {
        await using var proxy = await StartAsync();
        using var cuts = Cuts(proxy);
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
        await AssertCutAsync(cuts, "expired");
    }

    [Fact]
    public async Task SlowStreamingAnswer_TokenRevoked_CutMidAnswer()
    {
        await using var proxy = await StartAsync();
        using var cuts = Cuts(proxy);
        proxy.Upstream.Handler = TrickleAsync;
        var token = Token(proxy, "jti-stream", lifetimeSeconds: 3600);
        using var stream = await GetStreamAsync(proxy, token);
        var buffer = new byte[4096];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        Revoke(proxy, "jti-stream");
        var clock = Stopwatch.StartNew();
        await AssertClosedAsync(stream);

        Assert.True(clock.Elapsed < Bound, $"answer cut {clock.Elapsed} after the revocation");
        await AssertCutAsync(cuts, "revoked");
    }

    [Fact]
    public async Task SlowStreamingAnswer_MaxRequestDuration_CutThere()
    {
        await using var proxy = await StartAsync(values => values[EnvironmentVariables.MaxRequestSeconds] = "2");
        using var cuts = Cuts(proxy);
        proxy.Upstream.Handler = TrickleAsync;
        var token = Token(proxy, "jti-long", lifetimeSeconds: 3600);
        var clock = Stopwatch.StartNew();
        using var stream = await GetStreamAsync(proxy, token);

        await AssertClosedAsync(stream);

        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.5), $"cut after {clock.Elapsed}, before the maximum");
        Assert.True(clock.Elapsed < Bound, $"cut after {clock.Elapsed} for a 2 s maximum");
        await AssertCutAsync(cuts, "max_duration");
    }

    [Fact]
    public async Task SlowStreamingAnswer_LegacyTokenDroppedFromTheList_CutAndTheReChecksNotCountedAsAcceptances()
    {
        // The cutover (DESIGN §12): a stateless proxy accepts a listed legacy token; the list decides while the relay runs.
        await using var proxy = await StartAsync();
        using var cuts = Cuts(proxy);
        proxy.Upstream.Handler = TrickleAsync;
        const string legacy = "Zm9vYmFyLWxlZ2FjeS10b2tlbi0xMjM0NTY3ODkwYWJj";
        using var accepted = new MetricCollector<long>(proxy.App.Services.GetRequiredService<IMeterFactory>(), ProxyMetrics.MeterName, "requests_proxy.legacy_tokens.accepted");
        ListLegacy(proxy, new LegacyTokenEntry(LegacyTokenDigest.Compute(legacy), "job-1", "", null));
        using var stream = await GetStreamAsync(proxy, legacy);
        var buffer = new byte[4096];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        // Judged again a few times while listed: still relaying, and still one acceptance.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(await stream.ReadAsync(buffer) > 0);
        Assert.Equal(1, accepted.GetMeasurementSnapshot().Sum(m => m.Value));

        ListLegacy(proxy);
        await AssertClosedAsync(stream);
        await AssertCutAsync(cuts, "malformed");
    }

    [Fact]
    public async Task ShortRequests_ValidToken_NeverCut()
    {
        await using var proxy = await StartAsync();
        using var cuts = Cuts(proxy);
        var token = Token(proxy, "jti-ok", lifetimeSeconds: 3600);

        for (var i = 0; i < 20; i++)
        {
            var response = await RawHttp.SendAsync(proxy.Address, $"POST /v1/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0");
            Assert.Equal(200, response.Status);
        }

        Assert.Empty(cuts.GetMeasurementSnapshot());
    }

    /// <summary>This proxy's own cuts, from its meter factory: the /metrics text of a test process can also carry series of the proxies other tests run meanwhile.</summary>
    private static MetricCollector<long> Cuts(ProxyHarness proxy) =>
        new(proxy.App.Services.GetRequiredService<IMeterFactory>(), ProxyMetrics.MeterName, "requests_proxy.relays.cut");

    /// <summary>The cut is counted right after the abort the client saw: allow it a moment.</summary>
    private static async Task AssertCutAsync(MetricCollector<long> cuts, string reason)
    {
        for (var i = 0; i < 50 && !Counted(); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(Counted(), $"no cut with reason {reason}: {string.Join(", ", cuts.GetMeasurementSnapshot().Select(m => m.Tags["reason"]))}");

        bool Counted() => cuts.GetMeasurementSnapshot().Any(m => (string?)m.Tags["reason"] == reason);
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

    private static void ListLegacy(ProxyHarness proxy, params LegacyTokenEntry[] entries)
    {
        proxy.LegacyTokens.Write(new Dictionary<string, string>
        {
            [LegacyTokenList.FileName] = Encoding.UTF8.GetString(new LegacyTokenList(entries).Serialize()),
            [LegacyIssuer.FileName] = "closed\n",
        });
        proxy.App.Services.GetRequiredService<TokenSources>().LegacyTokens.Reload();
    }

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

    /// <summary>A plain GET through the catch-all (the answer streams); disposing the stream closes the connection.</summary>
    private static Task<NetworkStream> GetStreamAsync(ProxyHarness proxy, string token) =>
        SendHeadAsync(proxy, $"GET /v1/stream HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer {token}\r\n\r\n");

    private static async Task<NetworkStream> OpenTunnelAsync(ProxyHarness proxy, string token)
    {
        var stream = await SendHeadAsync(proxy,
            $"GET /v1/jobs/job-1/stream HTTP/1.1\r\nHost: proxy\r\nAuthorization: Bearer {token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
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

    /// <summary>A connection with <paramref name="head"/> written on it; disposing the stream closes the connection.</summary>
    private static async Task<NetworkStream> SendHeadAsync(ProxyHarness proxy, string head)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
        var stream = new NetworkStream(socket, ownsSocket: true);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
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
