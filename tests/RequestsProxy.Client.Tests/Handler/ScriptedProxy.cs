using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using RequestsProxy.Testing.Upstream;

namespace RequestsProxy.Client.Tests.Handler;

/// <summary>
/// Real Kestrel on 127.0.0.1 standing where the proxy would, answering from a script (one
/// answer per request, then 200): the retry rules need answers the real proxy gives only by chance.
/// </summary>
internal sealed class ScriptedProxy : IAsyncDisposable
{
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();

    private ScriptedProxy(TestUpstream server) => Server = server;

    public TestUpstream Server { get; }

    public Uri Address => Server.Address;

    public static async Task<ScriptedProxy> StartAsync()
    {
        ScriptedProxy? proxy = null;
        var server = await TestUpstream.StartAsync(context => proxy!.AnswerAsync(context));
        proxy = new ScriptedProxy(server);
        return proxy;
    }

    public ScriptedProxy Then(Func<HttpContext, Task> answer)
    {
        _script.Enqueue(answer);
        return this;
    }

    public ScriptedProxy Then(int status, string? retryAfter = null, Action? before = null) => Then(context =>
    {
        before?.Invoke();
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\", error_description=\"expired\"";
        }

        return context.Response.WriteAsync($"{{\"status\":{status}}}");
    });

    public IReadOnlyList<string?> Sent(string header) => [.. Server.Requests.Select(r => r.Header(header))];

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    private Task AnswerAsync(HttpContext context) =>
        _script.TryDequeue(out var answer) ? answer(context) : context.Response.WriteAsync("{\"ok\":true}");
}
