using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RequestsProxy.Settings;

namespace RequestsProxy.Demo;

/// <summary>
/// A training job of the demo (<c>requests-proxy-demo worker</c>, started by the jobs-manager like a pod):
/// reads its token file before every request (so refreshed tokens are picked up), posts epoch
/// results through the proxy, retries connection errors with backoff, and records every answer.
/// It stops by itself at its deadline, so it never outlives the demo.
/// </summary>
internal static class DemoWorker
{
    public const string CommandName = "worker";

    // The demo's own variables, which only it sets and reads; the jobs-manager adds the contract's.
    public const string EventsFileVariable = "DEMO_EVENTS_FILE";
    public const string DeadlineVariable = "DEMO_DEADLINE_UNIX_MS";
    public const string JobVariable = "DEMO_JOB";

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var proxy = Required(EnvironmentVariables.ProxyUrl);
        var tokenFile = Required(EnvironmentVariables.TokenFile);
        var eventsFile = Required(EventsFileVariable);
        var job = Required(JobVariable);
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(Required(DeadlineVariable), System.Globalization.CultureInfo.InvariantCulture));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using var events = new StreamWriter(eventsFile, append: true) { AutoFlush = true };
        var results = new Uri($"{proxy.TrimEnd('/')}/v1/jobs/{Uri.EscapeDataString(job)}/results");
        var backoff = TimeSpan.FromMilliseconds(50);
        var epoch = 0;
        var stopwatch = Stopwatch.StartNew();

        while (DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            string token;
            try
            {
                token = (await File.ReadAllTextAsync(tokenFile, cancellationToken)).Trim();
            }
            catch (FileNotFoundException)
            {
                // The jobs-manager removed the token file: the job is being stopped.
                return 0;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, results)
            {
                Content = new StringContent(JsonSerializer.Serialize(new { epoch, loss = 1.0 / (epoch + 1), elapsed = stopwatch.Elapsed.TotalSeconds }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            int status;
            string? reason = null;
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                status = (int)response.StatusCode;
                reason = ErrorDescription(response);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                status = 0;
            }

            await events.WriteLineAsync(JsonSerializer.Serialize(new WorkerEvent(job, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), status, reason, KidOf(token)), DemoJson.Default.WorkerEvent));
            if (status is 0 or 502 or 503)
            {
                await Delay(backoff, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }

            backoff = TimeSpan.FromMilliseconds(50);
            if (status is >= 200 and < 300)
            {
                epoch++;
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
