using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Testing.Hosting;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>
/// The admin client against an impostor on a listed legacy-pods address (finding B6 of 2026-12-02): a real Kestrel on
/// 127.0.0.1 that answers with a 400 MiB body (streamed) or a redirect, and the jobs-manager's own configured client.
/// </summary>
public sealed class LegacyAdminClientTests
{
    private const long HugeAnswer = 400L * 1024 * 1024;

    [Fact]
    public async Task StartAndSyncs_ImpostorAnswers400MiB_TheClientReadsAFewKiBPerAnswer()
    {
        var written = new ConcurrentQueue<long>();
        var chunk = new byte[64 * 1024];
        await using var impostor = await LoopbackApp.StartAsync(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.StatusCode = context.Request.Method == "POST" && context.Request.Path == "/admin/v1/tokens" ? StatusCodes.Status201Created : StatusCodes.Status200OK;
            context.Response.ContentLength = HugeAnswer;
            long sent = 0;
            try
            {
                while (sent < HugeAnswer && !context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                    sent += chunk.Length;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The client dropped the connection: what it did not read is gone.
            }
            finally
            {
                written.Enqueue(sent);
            }
        });
        var read = new Counter();
        await using var host = await ApiHost.StartAsync(
            configure: o =>
            {
                o.Stateless = false;
                o.ProxyUrl = impostor.Url;
                o.LegacySyncInterval = TimeSpan.FromMilliseconds(200);
            },
            configureBuilder: b =>
            {
                b.Services.AddSingleton<ILegacyProxyEndpoints>(new StaticLegacyEndpoints([impostor.Url]));
                b.Services.AddHttpClient(nameof(LegacyJobCredentials)).ConfigurePrimaryHttpMessageHandler((handler, _) => CountReads((SocketsHttpHandler)handler, read));
            });

        using (var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // The registration and then a sync every 200 ms, each answered with 400 MiB.
        await Eventually.TrueAsync(() => written.Count >= 6, "six huge answers sent (the registration and syncs)", TimeSpan.FromSeconds(30));
        var answers = written.Count;

        // Bounded by the drain limit (plus one socket read) per answer, whatever the impostor sends: the connection is dropped instead
        // (what the impostor's writes report is no measure: Kestrel discards writes to a connection the client closed).
        Assert.True(read.Bytes < answers * (LegacyJobCredentials.MaxAnswerBytes + 70_000), $"the client read {read.Bytes} bytes for {answers} answers");
    }

    [Fact]
    public async Task StartAndSyncs_ImpostorRedirects_NothingFollowsAndTheStartFailsNamingTheRedirect()
    {
        var elsewhere = new ConcurrentQueue<string>();
        await using var other = await LoopbackApp.StartAsync(context =>
        {
            elsewhere.Enqueue(context.Request.Method + " " + context.Request.Path);
            return Task.CompletedTask;
        });
        var redirectRegistrations = true;
        var syncsRedirected = 0;
        await using var impostor = await LoopbackApp.StartAsync(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            var isRegistration = context.Request.Path == "/admin/v1/tokens";
            if (isRegistration && !Volatile.Read(ref redirectRegistrations))
            {
                context.Response.StatusCode = StatusCodes.Status201Created;
                return;
            }

            if (context.Request.Path == "/admin/v1/sync")
            {
                Interlocked.Increment(ref syncsRedirected);
            }

            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = new Uri(other.Url, "elsewhere").ToString();
        });
        await using var host = await ApiHost.StartAsync(
            configure: o =>
            {
                o.Stateless = false;
                o.ProxyUrl = impostor.Url;
                o.LegacySyncInterval = TimeSpan.FromMilliseconds(200);
            },
            configureBuilder: b => b.Services.AddSingleton<ILegacyProxyEndpoints>(new StaticLegacyEndpoints([impostor.Url])));

        using (var refused = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-r", command = new[] { "/bin/sh", "-c", "sleep 30" } }))
        {
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
            Assert.Contains("redirect (HTTP 307 to " + new Uri(other.Url, "elsewhere"), await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Volatile.Write(ref redirectRegistrations, false);
        using (var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await Eventually.TrueAsync(() => Volatile.Read(ref syncsRedirected) >= 3, "three syncs answered with a redirect", TimeSpan.FromSeconds(30));
        Assert.Empty(elsewhere);
    }

    private static void CountReads(SocketsHttpHandler handler, Counter read)
    {
        Assert.False(handler.AllowAutoRedirect);
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new CountingStream(new NetworkStream(socket, ownsSocket: true), read);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
    }

    private sealed class Counter
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Add(int count) => Interlocked.Add(ref _bytes, count);
    }

    /// <summary>Counts every byte the client takes off the connection.</summary>
    private sealed class CountingStream(Stream inner, Counter read) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            read.Add(n);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            read.Add(n);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
