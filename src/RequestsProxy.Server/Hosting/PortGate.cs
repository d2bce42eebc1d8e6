using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// After routing: management endpoints answer on management connections only, and routes (the
/// relay, the legacy admin endpoints) on pod-facing connections only. Anything else is a 404 —
/// a pod asking for <c>/metrics</c> learns nothing, and is counted.
/// </summary>
internal sealed class PortGate(RequestDelegate next, ProxyMetrics metrics)
{
    private static readonly byte[] NotFound = """{"error":"not_found","error_description":"reserved_path"}"""u8.ToArray();

    public Task InvokeAsync(HttpContext context)
    {
        var onManagement = context.Features.Get<ManagementConnection>() is not null;
        var endpoint = context.GetEndpoint();
        if (endpoint is null || (endpoint.Metadata.GetMetadata<ManagementEndpoint>() is not null) == onManagement)
        {
            return next(context);
        }

        if (!onManagement)
        {
            metrics.Refused(RequestOutcomes.Rejected, AuthReasons.ReservedPath);
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = NotFound.Length;
        return context.Response.Body.WriteAsync(NotFound).AsTask();
    }
}
