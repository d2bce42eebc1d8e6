using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;

namespace RequestsProxy.Server;

internal static class Program
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> Main(string[] args)
    {
        // Run socket continuations on the epoll thread instead of hopping to the thread pool:
        // nothing on the request path blocks, and on 2 cores this measured +16–40 % req/s and
        // −15–30 % CPU per request (docs/benchmarks.md). Read when the first socket is created,
        // so setting it here works; an operator's own value wins.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        WebApplication app;
        try
        {
            app = ProxyApp.Build(args);
        }
        catch (InvalidSettingsException e)
        {
            await Console.Error.WriteLineAsync($"requests-proxy: {e.Message}");
            return 2;
        }
        catch (InvalidOperationException e) when (e.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase))
        {
            // YARP reports invalid routes (ours included) this way; the details are inner exceptions.
            await Console.Error.WriteLineAsync($"requests-proxy: {e.Message}");
            foreach (var inner in Flatten(e))
            {
                await Console.Error.WriteLineAsync($"  - {inner.Message}");
            }

            return 2;
        }

        await using (app)
        {
            await app.RunAsync();
        }

        return 0;
    }

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        var inners = e is AggregateException aggregate ? aggregate.InnerExceptions : (IEnumerable<Exception>)(e.InnerException is null ? [] : [e.InnerException]);
        foreach (var inner in inners)
        {
            if (inner is AggregateException || inner.InnerException is not null)
            {
                foreach (var nested in Flatten(inner))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return inner;
            }
        }
    }
}
