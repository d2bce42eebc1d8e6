using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.Demo;

/// <summary>
/// The platform's upstream, standing in for the edge: accepts results on 127.0.0.1 and counts
/// them by the subject the proxy vouched for (X-Requests-Proxy-Subject).
/// </summary>
internal sealed class UpstreamSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _received;
    private long _withoutIdentity;

    private UpstreamSink(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public long Received => Interlocked.Read(ref _received);

    /// <summary>Requests that reached the upstream without a verified identity: must stay 0.</summary>
    public long WithoutIdentity => Interlocked.Read(ref _withoutIdentity);

    public static async Task<UpstreamSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var sink = new UpstreamSink(app);
        app.Map("/{**path}", (HttpContext context) =>
        {
            Interlocked.Increment(ref sink._received);
            if (string.IsNullOrEmpty(context.Request.Headers["X-Requests-Proxy-Subject"]))
            {
                Interlocked.Increment(ref sink._withoutIdentity);
            }

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
}
