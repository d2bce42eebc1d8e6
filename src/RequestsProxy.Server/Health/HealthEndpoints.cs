using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Health;

/// <summary>
/// <c>/healthz</c>: the process answers. <c>/readyz</c>: it can judge tokens (stateless: a valid
/// key ring is loaded; the poll keeps retrying until one is).
/// </summary>
internal static class HealthEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (TokenSources sources) =>
        {
            if (sources.IsReady)
            {
                return Results.Text("ready\n");
            }

            var why = sources.Keys?.LastFailure ?? "no key ring loaded yet";
            return Results.Text($"not ready: {why}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }
}
