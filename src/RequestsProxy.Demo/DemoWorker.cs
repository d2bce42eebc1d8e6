using System.Buffers.Text;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RequestsProxy.Client;
using RequestsProxy.Settings;

namespace RequestsProxy.Demo;

/// <summary>
/// A training job of the demo (<c>requests-proxy-demo worker</c>, started by the jobs-manager like a pod):
/// posts epoch results through the proxy with the project's .NET client
/// (<see cref="RequestsProxyHandler"/>: token file per attempt, retries with Retry-After and
/// backoff, one Idempotency-Key per result), and records every attempt and the key of every
/// result. It stops by itself at its deadline, so it never outlives the demo.
/// </summary>
internal static class DemoWorker
{
    public const string CommandName = "worker";

    // The demo's own variables, which only it sets and reads; the jobs-manager adds the contract's.
    public const string EventsFileVariable = "DEMO_EVENTS_FILE";
    public const string DeadlineVariable = "DEMO_DEADLINE_UNIX_MS";
    public const string JobVariable = "DEMO_JOB";

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var proxy = Required(EnvironmentVariables.ProxyUrl);
        var tokenFile = Required(EnvironmentVariables.TokenFile);
        var eventsFile = Required(EventsFileVariable);
        var job = Required(JobVariable);
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(Required(DeadlineVariable), System.Globalization.CultureInfo.InvariantCulture));

        await using var events = new StreamWriter(eventsFile, append: true) { AutoFlush = true };
        var options = new RequestsProxyClientOptions
        {
            TokenFile = tokenFile,
            // Long enough for a proxy SIGKILL and restart; short enough to end with the demo.
            Deadline = TimeSpan.FromSeconds(60),
            AttemptTimeout = TimeSpan.FromSeconds(5),
            BackoffBase = TimeSpan.FromMilliseconds(50),
            BackoffCap = TimeSpan.FromSeconds(1),
        };
        var sockets = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) };
        using var http = RequestsProxyHttpClient.Create(options, new Uri(proxy.TrimEnd('/') + "/"), new AttemptRecorder(job, events, sockets));
        var results = $"v1/jobs/{Uri.EscapeDataString(job)}/results";
        var epoch = 0;
        var stopwatch = Stopwatch.StartNew();

        while (DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            var key = Guid.NewGuid().ToString("N");
            using var request = new HttpRequestMessage(HttpMethod.Post, results)
            {
                Content = new StringContent(JsonSerializer.Serialize(new { epoch, loss = 1.0 / (epoch + 1), elapsed = stopwatch.Elapsed.TotalSeconds }), Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation(RequestsProxyHandler.IdempotencyKeyHeader, key);
            lock (events)
            {
                events.WriteLine(JsonSerializer.Serialize(new WorkerEvent(job, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), WorkerEvent.Sending, null, null, key), DemoJson.Default.WorkerEvent));
            }

            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    epoch++;
                }
            }
            catch (RequestsProxyConfigurationException)
            {
                // The jobs-manager removed the token file: the job is being stopped.
                return 0;
            }
            catch (RequestsProxyUnavailableException)
            {
                // Every attempt is in the events file already; the next epoch tries again.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }

            await Delay(Interval, cancellationToken);
        }

        return 0;
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new DemoException($"the demo worker needs {name}", DemoExitCodes.Usage);

    internal static string? ErrorDescription(HttpResponseMessage response)
    {
        foreach (var challenge in response.Headers.WwwAuthenticate)
        {
            var parameter = challenge.Parameter ?? "";
            var at = parameter.IndexOf("error_description=\"", StringComparison.Ordinal);
            if (at >= 0)
            {
                var start = at + "error_description=\"".Length;
                var end = parameter.IndexOf('"', start);
                return end > start ? parameter[start..end] : null;
            }
        }

        return null;
    }

    /// <summary>The kid from the token's header (unverified; for the report only).</summary>
    internal static string? KidOf(string token)
    {
        try
        {
            var header = token.Split('.')[0];
            using var json = JsonDocument.Parse(Base64Url.DecodeFromChars(header));
            return json.RootElement.TryGetProperty("kid", out var kid) ? kid.GetString() : null;
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
