using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Legacy;

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
        app.MapGet("/readyz", (TokenSources sources, LegacyTokenRegistry registry, ProxySettings settings) =>
        {
            // Legacy: a replica the jobs-manager has not synced yet may lack a just-registered token (DESIGN §12).
            var problem = !sources.IsReady ? sources.NotReadyReason : settings.Stateless ? null : registry.SyncProblem;
            return problem is null
                ? Results.Text("ready\n")
                : Results.Text($"not ready: {problem}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithMetadata(ManagementEndpoint.Instance);
    }
}
