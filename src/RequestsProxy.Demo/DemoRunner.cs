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

        var result = new DemoResult { Folder = root, Legacy = options.Legacy, Cutover = options.Cutover, RevocationDeadline = options.RevocationDeadline };
        var tally = new DemoTally(eventsDir);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        _clock.Start();
        try
        {
            if (options.Cutover)
            {
                return await RunCutoverAsync(root, keysDir, revokedDir, eventsDir, adminTokenFile, result, tally, http, cancellationToken);
            }

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
            var names = Enumerable.Range(1, options.Jobs).Select(i => $"train-{i}").ToList();
            var tokenFiles = await StartJobsAsync(jobs, names, eventsDir, DateTimeOffset.UtcNow + options.Duration + TimeSpan.FromSeconds(15), cancellationToken);

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
            await StopOneAndProbeAsync(jobs, http, proxyUrl, names[^1], tokenFiles, tally, result, cancellationToken);

            await UntilAsync(1.0, cancellationToken);
            progress.Phase("stopping the remaining jobs and the services");
            await StopJobsAsync(jobs, names.Take(names.Count - 1), tally, cancellationToken);
            await manager.StopAsync(TimeSpan.FromSeconds(10));
            await proxy.StopAsync(TimeSpan.FromSeconds(10));
            return Finish(result, tally, sink);
        }
        finally
        {
            if (!options.Keep)
            {
                TryDelete(root);
            }
        }
    }

    /// <summary>
    /// <c>--cutover</c> (DESIGN §12): jobs start under legacy tokens behind a Service of two legacy
    /// replicas; then both services flip the way <c>helm upgrade --set requestsProxy.statelessTokens=true</c>
    /// rolls them — proxy replicas one at a time (a stateless one ready before a legacy one goes,
    /// maxSurge 1 / maxUnavailable 0), the jobs-manager recreated in between — and a proxy is
    /// SIGKILLed afterwards. Every job must end up on a signed token, its old legacy token refused
    /// after the grace, and no request carrying a valid token refused throughout.
    /// </summary>
    private async Task<DemoResult> RunCutoverAsync(string root, string keysDir, string revokedDir, string eventsDir, string adminTokenFile,
        DemoResult result, DemoTally tally, HttpClient http, CancellationToken cancellationToken)
    {
        var legacyTokensDir = Path.Combine(root, "legacy-tokens");
        Directory.CreateDirectory(legacyTokensDir);
        AtomicFile.WriteText(Path.Combine(legacyTokensDir, "legacy-tokens.json"), "[]\n");
        var podsFile = Path.Combine(root, "proxy-replicas");

        progress.Phase("starting the upstream sink, the proxy Service with 2 legacy replicas and a legacy jobs-manager");
        await using var sink = await UpstreamSink.StartAsync(cancellationToken);
        await using var front = ServiceFront.Start();
        var live = new List<ChildService>();
        var all = new List<ChildService>();
        var statelessReplicas = new HashSet<ChildService>();
        var replicaNumber = 0;
        var starting = new List<ChildService>();
        async Task<ChildService> StartReplicaAsync(bool stateless, bool waitReady = true)
        {
            var url = new Uri($"http://127.0.0.1:{FreePort()}");
            var management = new Uri($"http://127.0.0.1:{FreePort()}");
            var environment = new Dictionary<string, string>
            {
                [EnvironmentVariables.Stateless] = stateless ? "true" : "false",
                [EnvironmentVariables.KeysDirectory] = keysDir,
                [EnvironmentVariables.RevokedDirectory] = revokedDir,
                [EnvironmentVariables.LegacyTokensDirectory] = legacyTokensDir,
                [EnvironmentVariables.KeysPollSeconds] = Seconds(options.KeysPoll),
                [EnvironmentVariables.RevokedPollSeconds] = Seconds(options.RevokedPoll),
                [EnvironmentVariables.LegacyTokensPollSeconds] = Seconds(options.LegacyTokensPoll),
                [EnvironmentVariables.Upstream] = sink.Url.ToString(),
                [EnvironmentVariables.ManagementUrls] = management.ToString().TrimEnd('/'),
            };
            if (!stateless)
            {
                // As the chart mounts it: the admin token reaches legacy proxies only.
                environment[EnvironmentVariables.AdminTokenFile] = adminTokenFile;
            }

            var n = replicaNumber++;
            var replica = new ChildService($"requests-proxy-{n} ({(stateless ? "stateless" : "legacy")})", ProxyAssembly, url, environment, Path.Combine(root, $"requests-proxy-{n}.log"), management);
            all.Add(replica);
            if (stateless)
            {
                statelessReplicas.Add(replica);
            }

            replica.Start();
            if (waitReady)
            {
                await replica.WaitReadyAsync(http, TimeSpan.FromSeconds(60), cancellationToken);
            }

            return replica;
        }

        void Publish()
        {
            // The endpoints of the Service and of the headless ones the legacy jobs-manager resolves: each replica's
            // mode stands for the pod label the chart's -legacy-pods Service selects (the admin token goes to legacy ones only).
            // The headless Services publish not-ready pods too; the Service sends traffic to ready ones only.
            AtomicFile.WriteText(podsFile, string.Join('\n', live.Concat(starting).Select(r => statelessReplicas.Contains(r) ? $"{r.Url} stateless" : r.Url.ToString())) + "\n");
            front.SetBackends(live.Select(r => r.Url));
        }

        var managerUrl = new Uri($"http://127.0.0.1:{FreePort()}");
        ChildService Manager(bool stateless) => new("jobs-manager", JobsManagerAssembly, managerUrl, new Dictionary<string, string>
        {
            [EnvironmentVariables.Runtime] = "local",
            [EnvironmentVariables.Stateless] = stateless ? "true" : "false",
            [EnvironmentVariables.KeysDirectory] = keysDir,
            [EnvironmentVariables.KeysPollSeconds] = Seconds(options.KeysPoll),
            [EnvironmentVariables.RevokedDirectory] = revokedDir,
            [EnvironmentVariables.LegacyTokensDirectory] = legacyTokensDir,
            [EnvironmentVariables.LegacyTokenGraceSeconds] = Seconds(options.LegacyTokenGrace),
            [EnvironmentVariables.TokenTtlSeconds] = Seconds(options.TokenLifetime),
            [EnvironmentVariables.AdminTokenFile] = adminTokenFile,
            [EnvironmentVariables.ProxyUrl] = front.Url.ToString(),
            [EnvironmentVariables.ProxyPodsFile] = podsFile,
            [EnvironmentVariables.StateDirectory] = Path.Combine(root, "jobs-manager"),
            // Jobs outlive a jobs-manager that is recreated, as Kubernetes Jobs outlive its pod.
            [EnvironmentVariables.LocalKeepJobs] = "true",
            [EnvironmentVariables.RefreshCheckSeconds] = "1",
            [EnvironmentVariables.PruneIntervalSeconds] = "1",
        }, Path.Combine(root, "jobs-manager.log"));

        var names = Enumerable.Range(1, options.Jobs).Select(i => $"train-{i}").ToList();
        var manager = Manager(stateless: false);
        try
        {
            live.Add(await StartReplicaAsync(stateless: false));
            live.Add(await StartReplicaAsync(stateless: false));
            Publish();
            manager.Start();
            await manager.WaitReadyAsync(http, TimeSpan.FromSeconds(60), cancellationToken);
            using var jobs = new JobsApiClient(managerUrl, File.ReadAllText(adminTokenFile).Trim());

            progress.Phase($"starting {options.Jobs} training jobs under legacy tokens");
            var tokenFiles = await StartJobsAsync(jobs, names, eventsDir, DateTimeOffset.UtcNow + options.Duration + TimeSpan.FromSeconds(90), cancellationToken);
            var legacyToken = File.ReadAllText(tokenFiles[names[0]] ?? throw new DemoException($"the jobs-manager gave no token file for {names[0]}")).Trim();
            if (DemoWorker.KidOf(legacyToken) is not null)
            {
                throw new DemoException("the legacy jobs-manager handed out a signed token");
            }

            using var ticker = StartTicker(tally, sink, cancellationToken);
            await UntilAsync(0.2, cancellationToken);

            var flipStarted = _clock.Elapsed;
            progress.Phase("flip 1/3: a stateless proxy replica starts; not ready while the legacy list says issuing: opaque");
            var first = await StartReplicaAsync(stateless: true, waitReady: false);
            starting.Add(first);
            Publish();
            await Task.Delay(options.LegacyTokensPoll * 2, cancellationToken);
            if (await first.IsReadyAsync(http, cancellationToken))
            {
                throw new DemoException($"{first.Name} became ready while a legacy jobs-manager could still list tokens its copy lacks (issue 15 C3)");
            }

            progress.Phase("flip 2/3: the jobs-manager is recreated stateless (issuing: closed; it re-mints every legacy job); the stateless replica becomes ready, a legacy one terminates");
            await manager.StopAsync(TimeSpan.FromSeconds(10));
            manager = Manager(stateless: true);
            manager.Start();
            await manager.WaitReadyAsync(http, TimeSpan.FromSeconds(60), cancellationToken);
            var statelessAt = _clock.Elapsed;
            await first.WaitReadyAsync(http, TimeSpan.FromSeconds(60), cancellationToken);
            starting.Remove(first);
            await ReplaceOldestAsync(first);
            result.ConvertedWithin = await WaitForSignedTokensAsync(jobs, cancellationToken) is null ? null : _clock.Elapsed - statelessAt;
            var convertedAt = DateTimeOffset.UtcNow;
            progress.Phase("flip 3/3: the second legacy replica is replaced");
            await RollOneAsync();
            result.FlipDuration = _clock.Elapsed - flipStarted;

            await UntilAsync(0.5, cancellationToken);
            progress.Phase("SIGKILL a proxy replica after the flip, then start it again");
            var killedAt = _clock.Elapsed;
            var victimReplica = live[0];
            await victimReplica.KillAsync();
            victimReplica.Start();
            await victimReplica.WaitReadyAsync(http, TimeSpan.FromSeconds(60), cancellationToken);
            result.ProxyRestartTime = _clock.Elapsed - killedAt;

            progress.Phase($"probing every replica with {names[0]}'s old legacy token once its grace ({options.LegacyTokenGrace.TotalSeconds:0} s) has passed");
            await Task.Delay(convertedAt + options.LegacyTokenGrace + options.LegacyTokensPoll + TimeSpan.FromSeconds(1) - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero, cancellationToken);
            await ProbeEndedLegacyTokenAsync(http, live, names[0], legacyToken, result, cancellationToken);

            await UntilAsync(0.7, cancellationToken);
            await StopOneAndProbeAsync(jobs, http, front.Url, names[^1], tokenFiles, tally, result, cancellationToken);

            await UntilAsync(1.0, cancellationToken);
            progress.Phase("stopping the remaining jobs and the services");
            await StopJobsAsync(jobs, names.Take(names.Count - 1), tally, cancellationToken);
            await manager.StopAsync(TimeSpan.FromSeconds(10));
            foreach (var replica in live)
            {
                await replica.StopAsync(TimeSpan.FromSeconds(10));
            }

            return Finish(result, tally, sink);
        }
        finally
        {
            await manager.DisposeAsync();
            foreach (var replica in all)
            {
                await replica.DisposeAsync();
            }
        }

        async Task RollOneAsync() => await ReplaceOldestAsync(await StartReplicaAsync(stateless: true));

        // maxSurge 1 / maxUnavailable 0: the ready replacement joins the Service, then the oldest replica terminates.
        async Task ReplaceOldestAsync(ChildService fresh)
        {
            var old = live[0];
            live.Add(fresh);
            live.Remove(old);
            Publish();
            await old.StopAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static async Task<Dictionary<string, string?>> StartJobsAsync(JobsApiClient jobs, IReadOnlyList<string> names, string eventsDir, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
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

        return tokenFiles;
    }

    private async Task StopOneAndProbeAsync(JobsApiClient jobs, HttpClient http, Uri proxyUrl, string victim, Dictionary<string, string?> tokenFiles, DemoTally tally, DemoResult result, CancellationToken cancellationToken)
    {
        progress.Phase($"stopping {victim}; probing with a copy of its token until the proxy refuses it");
        // A copy of the token, as a leaked or copied token would be: the proxy must refuse it once the job stops.
        var copied = File.ReadAllText(tokenFiles[victim] ?? throw new DemoException($"the jobs-manager gave no token file for {victim}")).Trim();
        var stoppedAt = DateTimeOffset.UtcNow;
        tally.MarkStopped(victim, stoppedAt);
        await jobs.StopAsync(victim, cancellationToken);
        await ProbeRevocationAsync(http, proxyUrl, victim, copied, stoppedAt, result, cancellationToken);
    }

    private static async Task StopJobsAsync(JobsApiClient jobs, IEnumerable<string> names, DemoTally tally, CancellationToken cancellationToken)
    {
        foreach (var name in names)
        {
            tally.MarkStopped(name, DateTimeOffset.UtcNow);
            await jobs.StopAsync(name, cancellationToken);
        }
    }

    private DemoResult Finish(DemoResult result, DemoTally tally, UpstreamSink sink)
    {
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

    /// <summary>The stateless jobs-manager re-mints every legacy job at start-up: until every live job's token has a kid.</summary>
    private static async Task<TimeSpan?> WaitForSignedTokensAsync(JobsApiClient jobs, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var live = (await jobs.ListAsync(cancellationToken)).Value.Jobs.Where(j => JobStates.IsLive(j.State)).ToList();
            if (live.Count > 0 && live.All(j => j.Token?.Kid is not null))
            {
                return stopwatch.Elapsed;
            }

            await Task.Delay(100, cancellationToken);
        }

        return null;
    }

    /// <summary>
    /// A converted job's legacy token, copied before the flip, must be refused by every replica once its
    /// grace has passed (a few more polls are allowed for the list to reach them).
    /// </summary>
    private static async Task ProbeEndedLegacyTokenAsync(HttpClient http, IReadOnlyList<ChildService> replicas, string job, string token, DemoResult result, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(5))
        {
            var refused = 0;
            foreach (var replica in replicas)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(replica.Url, $"/v1/jobs/{job}/results")) { Content = new StringContent("{}") };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                try
                {
                    using var response = await http.SendAsync(request, cancellationToken);
                    if (response.StatusCode == HttpStatusCode.Unauthorized)
                    {
                        refused++;
                        result.LegacyTokenReason = DemoWorker.ErrorDescription(response);
                    }
                    else
                    {
                        result.LegacyProbeAccepted++;
                    }
                }
                catch (HttpRequestException)
                {
                }
            }

            if (refused == replicas.Count)
            {
                result.LegacyTokenRefused = true;
                return;
            }

            await Task.Delay(250, cancellationToken);
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
