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
            // YARP reports invalid routes (ours included) this way while loading them.
            await Console.Error.WriteLineAsync($"requests-proxy: {e.Message}");
            return 2;
        }

        await using (app)
        {
            await app.RunAsync();
        }

        return 0;
    }
}
