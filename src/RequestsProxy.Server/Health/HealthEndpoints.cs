using RequestsProxy.Server.Hosting;

namespace RequestsProxy.Server.Health;

/// <summary>
/// <c>/healthz</c>: the process answers. <c>/readyz</c>: it can judge tokens (stateless: a valid
/// key ring and a valid revocation list are loaded; the polls keep retrying until both are).
/// </summary>
internal static class HealthEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n")).WithMetadata(ManagementEndpoint.Instance);
        app.MapGet("/readyz", (TokenSources sources) =>
        {
            if (sources.IsReady)
            {
                return Results.Text("ready\n");
            }

            return Results.Text($"not ready: {sources.NotReadyReason}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithMetadata(ManagementEndpoint.Instance);
    }
}
