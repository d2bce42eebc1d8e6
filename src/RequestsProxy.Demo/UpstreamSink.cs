using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.Demo;

/// <summary>
/// The platform's upstream, standing in for the edge: accepts results on 127.0.0.1, counts them
/// by the subject the proxy vouched for (X-Requests-Proxy-Subject) and, as docs/client-contract.md
/// asks of an upstream, counts a result once per subject + Idempotency-Key: a retry of a result
/// that had arrived (the proxy was killed before it could answer) is answered 200 and suppressed.
/// </summary>
internal sealed class UpstreamSink : IAsyncDisposable
{
    private const string IdempotencyKey = "Idempotency-Key";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<(string Subject, string Key), byte> _results = new();
    private long _received;
    private long _duplicates;
    private long _withoutKey;
    private long _withoutIdentity;

    private UpstreamSink(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Every request that arrived, duplicates included.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Requests whose subject + key had arrived before: answered 200, not counted again.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Requests without a key (counted as they come: the demo's revocation probes).</summary>
    public long WithoutKey => Interlocked.Read(ref _withoutKey);

    /// <summary>Requests that reached the upstream without a verified identity: must stay 0.</summary>
    public long WithoutIdentity => Interlocked.Read(ref _withoutIdentity);

    /// <summary>The results counted, each once: (subject, Idempotency-Key).</summary>
    public IReadOnlyCollection<(string Subject, string Key)> CountedResults => [.. _results.Keys];

    public static async Task<UpstreamSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var sink = new UpstreamSink(app);
        app.Map("/{**path}", (HttpContext context) =>
        {
            sink.Count(context.Request.Headers["X-Requests-Proxy-Subject"].ToString(), context.Request.Headers[IdempotencyKey].ToString());
            return Results.Ok();
        });
        await app.StartAsync(cancellationToken);
        sink.Url = new Uri(app.Urls.First());
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Count(string subject, string key)
    {
        Interlocked.Increment(ref _received);
        if (subject.Length == 0)
        {
            Interlocked.Increment(ref _withoutIdentity);
        }

        if (key.Length == 0)
        {
            Interlocked.Increment(ref _withoutKey);
        }
        else if (!_results.TryAdd((subject, key), 0))
        {
            Interlocked.Increment(ref _duplicates);
        }
    }
}
