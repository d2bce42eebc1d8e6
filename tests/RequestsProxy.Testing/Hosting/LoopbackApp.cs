using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.Testing.Hosting;

/// <summary>
/// A web app on 127.0.0.1 at a port the OS picks, started and stopped: the one Kestrel bootstrap
/// of every fixture (the proxy and the jobs-manager under test, the test upstream, the fake
/// Kubernetes API, stand-ins). Each owns its port, so tests run in parallel.
/// </summary>
public sealed class LoopbackApp : IAsyncDisposable
{
    /// <summary>The listen address: loopback only, any free port.</summary>
    public const string AnyPort = "http://127.0.0.1:0";

    private LoopbackApp(WebApplication app)
    {
        App = app;
        Url = new Uri(app.Urls.First().TrimEnd('/') + "/");
    }

    public WebApplication App { get; }

    /// <summary>The bound address, with a trailing slash.</summary>
    public Uri Url { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>A quiet slim builder listening on <see cref="AnyPort"/>, for a fixture's own small app.</summary>
    public static WebApplicationBuilder CreateBuilder(WebApplicationOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder(options ?? new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(AnyPort);
        return builder;
    }

    /// <summary>A fixture app that answers every request with <paramref name="handler"/>.</summary>
    public static Task<LoopbackApp> StartAsync(RequestDelegate handler, Action<WebApplicationBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        var builder = CreateBuilder();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.Run(handler);
        return StartAsync(app, cancellationToken);
    }

    /// <summary>Starts an app built elsewhere (the service under test), which must listen on <see cref="AnyPort"/>.</summary>
    public static async Task<LoopbackApp> StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new LoopbackApp(app);
    }

    /// <summary>A client for this app (the caller disposes it).</summary>
    public HttpClient CreateClient() => new() { BaseAddress = Url };

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}
