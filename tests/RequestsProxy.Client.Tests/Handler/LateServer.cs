using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.Client.Tests.Handler;

/// <summary>Kestrel on a port chosen beforehand, so a client can be sending to it before it exists.</summary>
internal sealed class LateServer(WebApplication app) : IAsyncDisposable
{
    public static async Task<LateServer> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.Run(context => context.Response.WriteAsync("{\"ok\":true}"));
        await app.StartAsync();
        return new LateServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
