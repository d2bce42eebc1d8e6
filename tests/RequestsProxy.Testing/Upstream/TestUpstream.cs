using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using RequestsProxy.Testing.Hosting;

namespace RequestsProxy.Testing.Upstream;

/// <summary>
/// A real HTTP server on 127.0.0.1 (a port of its own) that records every request and answers
/// 200 <c>ok</c>, or whatever <see cref="Handler"/> says. Stands in for the edge behind the proxy.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private LoopbackApp _app = null!;
    private long _count;

    private TestUpstream()
    {
    }

    /// <summary>Base address, e.g. <c>http://127.0.0.1:43127/</c>.</summary>
    public Uri Address => _app.Url;

    /// <summary>Answers after the request was recorded; null means 200 with body <c>ok</c>.</summary>
    public Func<HttpContext, Task>? Handler { get; set; }

    /// <summary>Requests kept in memory (the oldest are dropped beyond this; <see cref="Count"/> still counts them).</summary>
    public int MaxRecorded { get; set; } = 10_000;

    /// <summary>Request bodies are recorded up to this size (longer ones are read fully but truncated).</summary>
    public int MaxRecordedBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Every request received since start or <see cref="Clear"/>.</summary>
    public long Count => Interlocked.Read(ref _count);

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public RecordedRequest? Last => _requests.LastOrDefault();

    public static async Task<TestUpstream> StartAsync(Func<HttpContext, Task>? handler = null)
    {
        var upstream = new TestUpstream { Handler = handler };
        upstream._app = await LoopbackApp.StartAsync(upstream.HandleAsync, builder => builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null));
        return upstream;
    }

    public void Clear()
    {
        _requests.Clear();
        Interlocked.Exchange(ref _count, 0);
    }

    /// <summary>Waits until a recorded request matches; throws TimeoutException otherwise.</summary>
    public async Task<RecordedRequest> WaitForAsync(Func<RecordedRequest, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = _requests.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no matching upstream request within {timeout}");
            }

            await Task.Delay(20);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            if (body.Length < MaxRecordedBodyBytes)
            {
                body.Write(buffer, 0, (int)Math.Min(read, MaxRecordedBodyBytes - body.Length));
            }
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers)
        {
            headers[name] = values.ToString();
        }

        _requests.Enqueue(new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            headers, body.ToArray(), DateTimeOffset.UtcNow)
        {
            RawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "",
        });
        Interlocked.Increment(ref _count);
        while (_requests.Count > MaxRecorded && _requests.TryDequeue(out _))
        {
        }

        if (Handler is { } handler)
        {
            await handler(context);
            return;
        }

        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync("ok", context.RequestAborted);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
