using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        WebApplication app;
        try
        {
            app = ProxyApp.Build(args);
        }
        catch (ProxyConfigurationException e)
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
