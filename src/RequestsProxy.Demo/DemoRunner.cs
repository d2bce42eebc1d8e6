using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using RequestsProxy.JobsApi;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.IO;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Demo;

/// <summary>
/// The whole system on one machine (DESIGN §10): a fresh key ring, an upstream sink, the real
/// requests-proxy and jobs-manager as child processes, and training jobs posting through the
/// proxy. While they run it SIGKILLs and restarts the proxy, rotates the key with rpctl and stops
/// a job, then reports whether any request carrying a valid token was ever refused.
/// </summary>
internal sealed class DemoRunner(DemoOptions options, IDemoProgress progress)
{
    private const string ProxyAssembly = "requests-proxy.dll";
    private const string JobsManagerAssembly = "jobs-manager.dll";

    private readonly Stopwatch _clock = new();

    public async Task<DemoResult> RunAsync(CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetTempPath(), $"rpctl-demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        var keysDir = Path.Combine(root, "keys");
        var revokedDir = Path.Combine(root, "revoked");
        var eventsDir = Path.Combine(root, "events");
        Directory.CreateDirectory(revokedDir);
        Directory.CreateDirectory(eventsDir);
        var adminTokenFile = Path.Combine(root, "admin-token");
        AtomicFile.WriteText(adminTokenFile, KeyRingRules.GenerateKey());
        AtomicFile.WriteText(Path.Combine(revokedDir, "revoked.json"), "[]\n");
        var keys = new Operator(keysDir);
        await keys.InitAsync(cancellationToken);

        var result = new DemoResult { Folder = root, Legacy = options.Legacy, RevocationDeadline = options.RevocationDeadline };
        var tally = new DemoTally(eventsDir);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        _clock.Start();
        try
        {
            progress.Phase("starting the upstream sink, requests-proxy and jobs-manager");
            await using var sink = await UpstreamSink.StartAsync(cancellationToken);
            var proxyUrl = new Uri($"http://127.0.0.1:{FreePort()}");
            var proxyManagementUrl = new Uri($"http://127.0.0.1:{FreePort()}");
            var managerUrl = new Uri($"http://127.0.0.1:{FreePort()}");
            var stateless = options.Legacy ? "false" : "true";
            await using var proxy = new ChildService("requests-proxy", ProxyAssembly, proxyUrl, new Dictionary<string, string>
            {
                [EnvironmentVariables.Stateless] = stateless,
                [EnvironmentVariables.KeysDirectory] = keysDir,
                [EnvironmentVariables.RevokedDirectory] = revokedDir,
                [EnvironmentVariables.KeysPollSeconds] = Seconds(options.KeysPoll),
                [EnvironmentVariables.RevokedPollSeconds] = Seconds(options.RevokedPoll),
                [EnvironmentVariables.Upstream] = sink.Url.ToString(),
                [EnvironmentVariables.AdminTokenFile] = adminTokenFile,
                [EnvironmentVariables.ManagementUrls] = proxyManagementUrl.ToString().TrimEnd('/'),
            }, Path.Combine(root, "requests-proxy.log"), proxyManagementUrl);
            proxy.Start();
            await proxy.WaitReadyAsync(http, TimeSpan.FromSeconds(30), cancellationToken);

            await using var manager = new ChildService("jobs-manager", JobsManagerAssembly, managerUrl, new Dictionary<string, string>
            {
                [EnvironmentVariables.Runtime] = "local",
                [EnvironmentVariables.Stateless] = stateless,
                [EnvironmentVariables.KeysDirectory] = keysDir,
                [EnvironmentVariables.KeysPollSeconds] = Seconds(options.KeysPoll),
                [EnvironmentVariables.RevokedDirectory] = revokedDir,
                [EnvironmentVariables.TokenTtlSeconds] = Seconds(options.TokenLifetime),
                [EnvironmentVariables.AdminTokenFile] = adminTokenFile,
                [EnvironmentVariables.ProxyUrl] = proxyUrl.ToString(),
                [EnvironmentVariables.StateDirectory] = Path.Combine(root, "jobs-manager"),
                [EnvironmentVariables.RefreshCheckSeconds] = "1",
            }, Path.Combine(root, "jobs-manager.log"));
            manager.Start();
            await manager.WaitReadyAsync(http, TimeSpan.FromSeconds(30), cancellationToken);
            using var jobs = new JobsApiClient(managerUrl, File.ReadAllText(adminTokenFile).Trim());

            progress.Phase($"starting {options.Jobs} training jobs");
            var deadline = DateTimeOffset.UtcNow + options.Duration + TimeSpan.FromSeconds(15);
            var names = Enumerable.Range(1, options.Jobs).Select(i => $"train-{i}").ToList();
            var tokenFiles = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var name in names)
            {
                tokenFiles[name] = (await jobs.StartAsync(new StartJobRequest(name, null, DotnetHost.Demo(DemoWorker.CommandName), null, null, new Dictionary<string, string>
                {
                    [DemoWorker.JobVariable] = name,
                    [DemoWorker.EventsFileVariable] = Path.Combine(eventsDir, name + ".jsonl"),
                    [DemoWorker.DeadlineVariable] = deadline.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                }), cancellationToken)).Value.TokenFile;
            }

            using var ticker = StartTicker(tally, sink, cancellationToken);

            await UntilAsync(0.25, cancellationToken);
            progress.Phase("SIGKILL requests-proxy, then start it again");
            var killedAt = _clock.Elapsed;
            await proxy.KillAsync();
            proxy.Start();
            await proxy.WaitReadyAsync(http, TimeSpan.FromSeconds(30), cancellationToken);
            result.ProxyRestartTime = _clock.Elapsed - killedAt;

            await UntilAsync(0.45, cancellationToken);
            if (options.Legacy)
            {
                progress.Phase("key rotation skipped: legacy tokens are opaque, not signed");
            }
            else
            {
                progress.Phase("rotating the key: add, wait until the proxy has it, promote");
                var kid = await keys.AddAsync(cancellationToken);
                await WaitForKidAsync(http, proxyManagementUrl, kid, cancellationToken);
                await keys.PromoteAsync(kid, cancellationToken);
                result.RotatedTo = kid;
                result.RemintedWithin = await WaitForRemintAsync(jobs, kid, cancellationToken);
            }

            await UntilAsync(0.65, cancellationToken);
            var victim = names[^1];
            progress.Phase($"stopping {victim}; probing with a copy of its token until the proxy refuses it");
            // A copy of the token, as a leaked or copied token would be: the proxy must refuse it once the job stops.
            var copied = File.ReadAllText(tokenFiles[victim] ?? throw new DemoException($"the jobs-manager gave no token file for {victim}")).Trim();
            var stoppedAt = DateTimeOffset.UtcNow;
            tally.MarkStopped(victim, stoppedAt);
            await jobs.StopAsync(victim, cancellationToken);
            await ProbeRevocationAsync(http, proxyUrl, victim, copied, stoppedAt, result, cancellationToken);

            await UntilAsync(1.0, cancellationToken);
            progress.Phase("stopping the remaining jobs and the services");
            foreach (var name in names.Take(names.Count - 1))
            {
                tally.MarkStopped(name, DateTimeOffset.UtcNow);
                await jobs.StopAsync(name, cancellationToken);
            }

            await manager.StopAsync(TimeSpan.FromSeconds(10));
            await proxy.StopAsync(TimeSpan.FromSeconds(10));
            tally.Update();
            result.Tally = tally;
            result.UpstreamReceived = sink.Received;
            result.UpstreamWithoutIdentity = sink.WithoutIdentity;
            result.UpstreamDuplicates = sink.Duplicates;
            result.UpstreamWithoutKey = sink.WithoutKey;
            result.Results = tally.Reconcile(sink.CountedResults);
            result.Elapsed = _clock.Elapsed;
            return result;
        }
        finally
        {
            if (!options.Keep)
            {
                TryDelete(root);
            }
        }
    }

    private IDisposable StartTicker(DemoTally tally, UpstreamSink sink, CancellationToken cancellationToken)
    {
        var timer = new Timer(_ =>
        {
            try
            {
                tally.Update();
                progress.Tick(_clock.Elapsed, options.Duration, tally, sink.Received);
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                // A half-written event line or a busy file: the next tick reads it.
            }
        }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(500));
        cancellationToken.Register(() => timer.Dispose());
        return timer;
    }

    private async Task UntilAsync(double fraction, CancellationToken cancellationToken)
    {
        var wait = (options.Duration * fraction) - _clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>
    /// Rotation step 1 ends when every proxy has loaded the new key: the operator's check of
    /// the proxy's documented <c>requests_proxy_key_ring_kid</c> gauge (docs/proxy.md), on its management port.
    /// </summary>
    private static async Task WaitForKidAsync(HttpClient http, Uri proxy, string kid, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var metrics = await http.GetStringAsync(new Uri(proxy, "/metrics"), cancellationToken);
            if (metrics.Split('\n').Any(line => line.StartsWith("requests_proxy_key_ring_kid{", StringComparison.Ordinal) && line.Contains($"kid=\"{kid}\"", StringComparison.Ordinal)))
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new DemoException($"the proxy did not load key {kid} within 30 s");
    }

    /// <summary>After a promotion the jobs-manager re-mints every live job's token with the new kid.</summary>
    private static async Task<TimeSpan?> WaitForRemintAsync(JobsApiClient jobs, string kid, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var live = (await jobs.ListAsync(cancellationToken)).Value.Jobs.Where(j => JobStates.IsLive(j.State)).ToList();
            if (live.Count > 0 && live.All(j => j.Token?.Kid == kid))
            {
                return stopwatch.Elapsed;
            }

            await Task.Delay(100, cancellationToken);
        }

        return null;
    }

    /// <summary>A copied token of the stopped job must be refused within one poll period plus a margin.</summary>
    private async Task ProbeRevocationAsync(HttpClient http, Uri proxy, string job, string token, DateTimeOffset stoppedAt, DemoResult result, CancellationToken cancellationToken)
    {
        var limit = stoppedAt + options.RevocationDeadline + TimeSpan.FromSeconds(5);
        while (DateTimeOffset.UtcNow < limit)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(proxy, $"/v1/jobs/{job}/results")) { Content = new StringContent("{}") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            result.ProbeRequests++;
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    result.ProbeRefused++;
                    result.RevocationReason = DemoWorker.ErrorDescription(response);
                    result.RevocationBite = DateTimeOffset.UtcNow - stoppedAt;
                    return;
                }

                result.ProbeAcceptedAfterStop++;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
