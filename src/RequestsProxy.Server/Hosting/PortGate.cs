using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// After routing: management endpoints answer on management connections only, the admission
/// webhook on admission connections only, and routes (the relay, the legacy admin endpoints) on
/// pod-facing connections only. Anything else is a 404 — a pod asking for <c>/metrics</c> learns
/// nothing, and is counted; nothing is ever relayed from the webhook's port.
/// </summary>
internal sealed class PortGate(RequestDelegate next, ProxyMetrics metrics)
{
    private static readonly byte[] NotFound = """{"error":"not_found","error_description":"reserved_path"}"""u8.ToArray();

    private enum Port
    {
        Pod,
        Management,
        Admission,
    }

    public Task InvokeAsync(HttpContext context)
    {
        var connection = context.Features.Get<ManagementConnection>() is not null ? Port.Management
            : context.Features.Get<AdmissionConnection>() is not null ? Port.Admission
            : Port.Pod;
        var endpoint = context.GetEndpoint();
        if (endpoint is null ? connection != Port.Admission : PortOf(endpoint) == connection)
        {
            return next(context);
        }

        if (connection == Port.Pod)
        {
            metrics.Refused(RequestOutcomes.Rejected, AuthReasons.ReservedPath);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = NotFound.Length;
        return context.Response.Body.WriteAsync(NotFound).AsTask();
    }

    private static Port PortOf(Endpoint endpoint) =>
        endpoint.Metadata.GetMetadata<ManagementEndpoint>() is not null ? Port.Management
        : endpoint.Metadata.GetMetadata<AdmissionEndpoint>() is not null ? Port.Admission
        : Port.Pod;
}
