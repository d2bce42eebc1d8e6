using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RequestsProxy.Cluster.Workload;

/// <summary>
/// A training pod's client loop: reads the token file before every request (so a refreshed or
/// re-minted token is picked up), posts an epoch result through the proxy, retries connection
/// errors with backoff, and prints a cumulative tally as one JSON line a second (the tests read
/// the last line of the pod's log). Every 401 is also printed at once with its reason.
/// Stops by itself after TRAINER_SECONDS (default one hour), or when the token file is gone.
/// TRAINER_REQUIRE_PATHS (comma-separated) names files or folders that must be there first (a
/// template's volumes): the trainer exits 3 naming the first one missing.
/// </summary>
internal static class Trainer
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var proxy = Required("REQUESTS_PROXY_URL").TrimEnd('/');
        var tokenFile = Required("REQUESTS_PROXY_TOKEN_FILE");
        var job = Required("TRAINER_JOB");
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("TRAINER_SECONDS"), out var s) && s > 0 ? s : 3600;
        foreach (var path in (Environment.GetEnvironmentVariable("TRAINER_REQUIRE_PATHS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { @event = "missing_path", job, path }));
                return 3;
            }
        }

        var deadline = Stopwatch.StartNew();
        var results = new Uri($"{proxy}/v1/jobs/{Uri.EscapeDataString(job)}/results");
        var tally = new TrainerTally(job);
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(5), ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        var backoff = TimeSpan.FromMilliseconds(50);
        var lastReport = Stopwatch.StartNew();
        var epoch = 0;

        while (deadline.Elapsed < TimeSpan.FromSeconds(seconds) && !cancellationToken.IsCancellationRequested)
        {
            if (lastReport.Elapsed >= TimeSpan.FromSeconds(1))
            {
                tally.Print();
                lastReport.Restart();
            }

            string token;
            try
            {
                token = (await File.ReadAllTextAsync(tokenFile, cancellationToken)).Trim();
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                tally.Print();
                Console.WriteLine($"{{\"event\":\"token_file_gone\",\"job\":\"{job}\"}}");
                return 0;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, results)
            {
                Content = new StringContent(JsonSerializer.Serialize(new { epoch, loss = 1.0 / (epoch + 1) }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            int status;
            string? reason = null;
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                status = (int)response.StatusCode;
                reason = response.Headers.WwwAuthenticate.FirstOrDefault()?.Parameter;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                status = 0;
                reason = e.Message;
            }

            tally.Record(status, TokenKid.Of(token), reason);
            if (status is 0 or 502 or 503)
            {
                await Task.Delay(backoff, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }

            backoff = TimeSpan.FromMilliseconds(50);
            if (status is >= 200 and < 300)
            {
                epoch++;
            }

            await Task.Delay(Interval, cancellationToken);
        }

        tally.Print();
        return 0;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"the trainer needs {name}");
}
