using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Admission;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Files;
using Xunit.Abstractions;

namespace RequestsProxy.Server.Tests.Admission;

/// <summary>
/// Finding A3 over real Kestrel and TLS on 127.0.0.1, with the defaults the chart runs (4 connections per client
/// address, a 1 s body deadline, 64 KiB/s, slots given to the addresses in turn): senders that trickle their bodies from several loopback addresses
/// (127.0.0.2–6, each at its cap, reconnecting whenever they are cut) do not keep a well-behaved review from an
/// answer within the apiserver's 5 s.
/// </summary>
[Collection(nameof(Metrics.ProxyMetricsTests))]
public sealed class AdmissionSlowClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int PerClient = 4;

    private readonly TempFolder _tls = new("rp-webhook-slow");
    private ProxyHarness _proxy = null!;
    private HttpClient? _apiserver;

    public async Task InitializeAsync()
    {
        TestCertificates.Write(_tls.Path, TestCertificates.Create());
        _proxy = await ProxyHarness.StartAsync(settings: values =>
        {
            values[EnvironmentVariables.AdmissionUrls] = "https://127.0.0.1:0";
            values[EnvironmentVariables.AdmissionTlsDirectory] = _tls.Path;
            values[EnvironmentVariables.AdmissionJobsManagerUser] = SecretAdmissionPolicyTests.JobsManager;
        });
    }

    public async Task DisposeAsync()
    {
        _apiserver?.Dispose();
        await _proxy.DisposeAsync();
        _tls.Dispose();
    }

    private Uri AdmissionAddress => _proxy.App.Services.GetRequiredService<ProxyListeners>().AdmissionAddresses[0];

    private ClientConnectionLimit Limit => _proxy.App.Services.GetRequiredService<AdmissionConnectionLimit>().Limit;

    [Fact]
    public void Defaults_AreTheOnesThisTestMeasures()
    {
        var defaults = new ProxySettings();
        Assert.Equal(PerClient, defaults.AdmissionMaxConnectionsPerClient);
        Assert.Equal(TimeSpan.FromSeconds(1), defaults.AdmissionBodyTimeout);
        Assert.Equal(64 * 1024, defaults.AdmissionMinBodyBytesPerSecond);
    }

    [Fact]
    public async Task SlowSenders_FromFiveAddressesAtTheirCap_AReviewStillAnsweredWithinTheApiserversTimeout()
    {
        using var stop = new CancellationTokenSource();
        var cuts = 0;
        var attackers = Enumerable.Range(2, 5).SelectMany(last => Enumerable.Range(0, PerClient).Select(_ => Task.Run(async () =>
        {
            // Reconnects whenever it is cut, like an attacker keeping the slots busy.
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var slow = await SlowClient.OpenAsync(IPAddress.Parse($"127.0.0.{last}"), AdmissionAddress, stop.Token);
                    await slow.TrickleAsync(stop.Token);
                    Interlocked.Increment(ref cuts);
                }
                catch (Exception e) when (e is IOException or SocketException or AuthenticationException or OperationCanceledException)
                {
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        }))).ToList();
        try
        {
            // Bounded: every address holds its cap of connections (20 in all, five times the review slots).
            for (var i = 0; i < 100 && !Enumerable.Range(2, 5).All(last => Limit.OpenFrom(IPAddress.Parse($"127.0.0.{last}")) == PerClient); i++)
            {
                await Task.Delay(100);
            }

            Assert.All(Enumerable.Range(2, 5), last => Assert.Equal(PerClient, Limit.OpenFrom(IPAddress.Parse($"127.0.0.{last}"))));
            await Task.Delay(TimeSpan.FromSeconds(1));

            var latencies = new List<TimeSpan>();
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await ReviewAsync();
                watch.Stop();
                latencies.Add(watch.Elapsed);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
            }

            output.WriteLine($"review latencies under 20 slow senders: {string.Join(", ", latencies.Select(l => $"{l.TotalMilliseconds:F0} ms"))}; slow senders cut so far: {Volatile.Read(ref cuts)}");
            Assert.All(latencies, l => Assert.True(l < TimeSpan.FromSeconds(4.5), $"a review took {l.TotalMilliseconds:F0} ms"));
            Assert.True(Volatile.Read(ref cuts) > 0);
            Assert.Contains("result=\"slow\"", await _proxy.MetricsAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(attackers);
        }
    }

    [Fact]
    public async Task OneSlowSender_IsCutWithinTheDeadline()
    {
        await using var slow = await SlowClient.OpenAsync(IPAddress.Parse("127.0.0.9"), AdmissionAddress, CancellationToken.None);
        var watch = Stopwatch.StartNew();

        var answer = await slow.TrickleAsync(CancellationToken.None);

        output.WriteLine($"a sender of 1 byte per 200 ms cut after {watch.ElapsedMilliseconds} ms: {answer.Split('\n')[0]}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"{watch.ElapsedMilliseconds} ms");
        // The deadline (1 s) closes the connection without an answer.
        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), answer);
    }

    [Fact]
    public async Task AConnectionOverTheCap_ClosedAtOnce_AndAnotherAddressStillServed()
    {
        var from = IPAddress.Parse("127.0.0.8");
        var held = new List<SlowClient>();
        try
        {
            for (var i = 0; i < PerClient; i++)
            {
                held.Add(await SlowClient.OpenAsync(from, AdmissionAddress, CancellationToken.None));
            }

            for (var i = 0; i < 50 && Limit.OpenFrom(from) < PerClient; i++)
            {
                await Task.Delay(100);
            }

            Assert.Equal(PerClient, Limit.OpenFrom(from));
            await Assert.ThrowsAnyAsync<Exception>(async () => await (await SlowClient.OpenAsync(from, AdmissionAddress, CancellationToken.None)).DisposeAsync());

            using var response = await ReviewAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            foreach (var client in held)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>A review as the apiserver sends it: HTTP/2, every review over the same connection.</summary>
    private async Task<HttpResponseMessage> ReviewAsync()
    {
        _apiserver ??= new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null },
        })
        { BaseAddress = AdmissionAddress, DefaultRequestVersion = HttpVersion.Version20, Timeout = TimeSpan.FromSeconds(10) };
        return await _apiserver.PostAsync(AdmissionEndpoints.SecretsPath, new ByteArrayContent(SlowClient.Body) { Headers = { ContentType = new("application/json") } });
    }

    private sealed class SlowClient : IAsyncDisposable
    {
        public static readonly byte[] Body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            apiVersion = "admission.k8s.io/v1",
            kind = "AdmissionReview",
            request = new
            {
                uid = "uid-slow",
                resource = new { group = "", version = "v1", resource = "secrets" },
                @namespace = "ml-jobs",
                operation = "CREATE",
                userInfo = new { username = "someone" },
                @object = new { metadata = new { name = "x" } },
            },
        });

        private readonly SslStream _stream;

        private SlowClient(SslStream stream) => _stream = stream;

        /// <summary>A TLS connection from <paramref name="from"/> that has sent a review's head and announced its body.</summary>
        public static async Task<SlowClient> OpenAsync(IPAddress from, Uri address, CancellationToken cancellationToken)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address.Host), address.Port), cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var stream = new SslStream(new NetworkStream(socket, ownsSocket: true));
            try
            {
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                handshake.CancelAfter(TimeSpan.FromSeconds(5));
                await stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                }, handshake.Token);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    $"POST {AdmissionEndpoints.SecretsPath} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {Body.Length}\r\n\r\n"), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
            catch
            {
                await stream.DisposeAsync();
                throw;
            }

            return new SlowClient(stream);
        }

        /// <summary>One byte every 200 ms until the server answers or closes; what it answered (empty: closed without an answer).</summary>
        public async Task<string> TrickleAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[4096];
            var read = _stream.ReadAsync(buffer, cancellationToken).AsTask();
            for (var i = 0; i < Body.Length - 1 && !read.IsCompleted; i++)
            {
                try
                {
                    await _stream.WriteAsync(Body.AsMemory(i, 1), cancellationToken);
                    await _stream.FlushAsync(cancellationToken);
                }
                catch (IOException)
                {
                    break;
                }

                await Task.WhenAny(read, Task.Delay(200, cancellationToken));
            }

            try
            {
                var count = await read;
                return Encoding.ASCII.GetString(buffer, 0, count);
            }
            catch (IOException)
            {
                return "";
            }
        }

        public ValueTask DisposeAsync() => _stream.DisposeAsync();
    }
}
