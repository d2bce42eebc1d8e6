using System.Text.Json;

namespace RequestsProxy.Demo;

/// <summary>
/// Below the client's retry pipeline: writes one event per attempt (its status, or 0 for a
/// connection error), so the report sees every refusal and outage the client retried through.
/// </summary>
internal sealed class AttemptRecorder(string job, TextWriter events, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var kid = DemoWorker.KidOf(request.Headers.Authorization?.Parameter ?? "");
        var key = request.Headers.TryGetValues(RequestsProxy.Client.RequestsProxyHandler.IdempotencyKeyHeader, out var keys) ? keys.FirstOrDefault() : null;
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            Write(new WorkerEvent(job, Now(), (int)response.StatusCode, DemoWorker.ErrorDescription(response), kid, key));
            return response;
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Write(new WorkerEvent(job, Now(), 0, null, kid, key));
            throw;
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private void Write(WorkerEvent e)
    {
        lock (events)
        {
            events.WriteLine(JsonSerializer.Serialize(e, DemoJson.Default.WorkerEvent));
        }
    }
}
