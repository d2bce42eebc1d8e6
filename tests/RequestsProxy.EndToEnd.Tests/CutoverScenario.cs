using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Upstream;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.EndToEnd.Tests;

/// <summary>
/// The real processes of a cutover (DESIGN §12) on one machine, laid out as the chart mounts them:
/// two requests-proxy replicas on fixed ports (each restartable in either mode, as a rolled or
/// killed pod), one jobs-manager on the Local runtime whose jobs outlive it (as Kubernetes Jobs
/// outlive its pod), the key ring, revocation list and legacy token list shared through folders,
/// and a replicas file standing in for the headless Service the legacy jobs-manager registers with.
/// </summary>
internal sealed class CutoverScenario : IAsyncDisposable
{
    public const string AdminToken = "e2e-cutover-admin-token";

    /// <summary>How long a converted job's legacy token keeps working (JOBS_MANAGER_LEGACY_TOKEN_GRACE_SECONDS).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(4);

    private readonly int[] _ports = [ProxyScenario.FreePort(), ProxyScenario.FreePort()];
    private readonly int[] _managementPorts = [ProxyScenario.FreePort(), ProxyScenario.FreePort()];
    private readonly int _managerPort = ProxyScenario.FreePort();
    private readonly ServiceProcess?[] _proxies = new ServiceProcess?[2];
    private readonly bool[] _stateless = new bool[2];
    private readonly bool[] _published = new bool[2];
    private readonly List<ServiceProcess> _exited = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private CutoverScenario(TestUpstream upstream)
    {
        Upstream = upstream;
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        Revoked = new ProjectedVolume(Folder.Combine("revoked"), new Dictionary<string, string> { ["revoked.json"] = "[]" });
        Directory.CreateDirectory(LegacyTokensDirectory);
        File.WriteAllText(Path.Combine(LegacyTokensDirectory, LegacyTokenList.FileName), "[]");
        Directory.CreateDirectory(Folder.Combine("admin"));
        File.WriteAllText(Folder.Combine("admin", "token"), AdminToken + "\n");
        PublishReplicas();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public TempFolder Folder { get; } = new("rp-e2e-cutover");

    public KeyRingVolume Keys { get; }

    public ProjectedVolume Revoked { get; }

    public TestUpstream Upstream { get; }

    public string LegacyTokensDirectory => Folder.Combine("legacy-tokens");

    public string StateDirectory => Folder.Combine("state");

    public ServiceProcess? Manager { get; private set; }

    public Uri ManagerAddress => new($"http://127.0.0.1:{_managerPort}/");

    /// <summary>The headless Services' view: each replica with its mode (the chart's pod label), so the admin token goes to legacy ones only.</summary>
    private void PublishReplicas()
    {
        // Atomically, as DNS answers change: the jobs-manager may read it at any moment.
        var next = Folder.Combine("replicas.next");
        File.WriteAllLines(next, _ports.Select((p, i) => (Port: p, Index: i)).Where(r => _published[r.Index])
            .Select(r => $"http://127.0.0.1:{r.Port}" + (_stateless[r.Index] ? " stateless" : "")));
        File.Move(next, Folder.Combine("replicas"), overwrite: true);
    }

    public static async Task<CutoverScenario> CreateAsync() => new(await TestUpstream.StartAsync());

    public Uri ProxyAddress(int replica) => new($"http://127.0.0.1:{_ports[replica]}/");

    /// <summary>Starts replica 0 or 1 in the given mode on its port and waits for /readyz.</summary>
    public Task StartProxyAsync(int replica, bool stateless) => StartProxyAsync(replica, stateless, publish: true, legacyTokensDirectory: null, syncWaitSeconds: 0, waitReady: true);

    /// <param name="publish">False: the headless Services' DNS does not list it yet (the jobs-manager cannot see it).</param>
    /// <param name="legacyTokensDirectory">Its own copy of the list (a kubelet that has not synced the ConfigMap yet); null: the shared one.</param>
    /// <param name="syncWaitSeconds">REQUESTS_PROXY_LEGACY_SYNC_WAIT_SECONDS (the chart's 60).</param>
    /// <param name="waitReady">False: only wait until it listens.</param>
    public async Task StartProxyAsync(int replica, bool stateless, bool publish, string? legacyTokensDirectory, int syncWaitSeconds, bool waitReady)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_ports[replica]}",
            [EnvironmentVariables.ManagementUrls] = $"http://127.0.0.1:{_managementPorts[replica]}",
            [EnvironmentVariables.Stateless] = stateless ? "true" : "false",
            [EnvironmentVariables.KeysDirectory] = Keys.Path,
            [EnvironmentVariables.RevokedDirectory] = Revoked.Path,
            [EnvironmentVariables.LegacyTokensDirectory] = legacyTokensDirectory ?? LegacyTokensDirectory,
            [EnvironmentVariables.KeysPollSeconds] = "1",
            [EnvironmentVariables.RevokedPollSeconds] = "1",
            [EnvironmentVariables.LegacyTokensPollSeconds] = "1",
            [EnvironmentVariables.LegacySyncWaitSeconds] = syncWaitSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [EnvironmentVariables.Upstream] = Upstream.Address.ToString(),
            // The chart mounts the admin token into legacy proxies only.
            [EnvironmentVariables.AdminTokenFile] = stateless ? null : Folder.Combine("admin", "token"),
        };
        var proxy = ServiceProcess.Start(ServiceProcess.FindAssembly("requests-proxy"), environment);
        _proxies[replica] = proxy;
        _stateless[replica] = stateless;
        _published[replica] = publish;
        PublishReplicas();
        await proxy.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        if (waitReady)
        {
            await proxy.WaitForOkAsync(new Uri($"http://127.0.0.1:{_managementPorts[replica]}/readyz"), TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>The headless Services' DNS now lists the replica.</summary>
    public void Publish(int replica)
    {
        _published[replica] = true;
        PublishReplicas();
    }

    /// <summary>The headless Services' DNS no longer lists the replica (the jobs-manager cannot reach it).</summary>
    public void Unpublish(int replica)
    {
        _published[replica] = false;
        PublishReplicas();
    }

    /// <summary>The replica's /readyz status code.</summary>
    public async Task<int> ReadyStatusAsync(int replica)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{_managementPorts[replica]}/readyz"));
        return (int)response.StatusCode;
    }

    /// <summary>A rolling update's step for one replica: SIGTERM (it drains), then the replacement in <paramref name="stateless"/> mode.</summary>
    /// <param name="waitReady">False: only until it listens (a stateless replica waits for the list's issuing: closed).</param>
    public async Task RollProxyAsync(int replica, bool stateless, bool waitReady = true)
    {
        await TerminateAsync(_proxies[replica]);
        await StartProxyAsync(replica, stateless, publish: true, legacyTokensDirectory: null, syncWaitSeconds: 0, waitReady);
    }

    /// <summary>Waits until the replica's /readyz answers 200.</summary>
    public Task WaitReadyAsync(int replica, TimeSpan limit) =>
        _proxies[replica]!.WaitForOkAsync(new Uri($"http://127.0.0.1:{_managementPorts[replica]}/readyz"), limit);

    /// <summary>The list's issuing marker as the jobs-manager left it (opaque, closed, or empty).</summary>
    public string Issuing() =>
        File.Exists(Path.Combine(LegacyTokensDirectory, LegacyIssuer.FileName)) ? File.ReadAllText(Path.Combine(LegacyTokensDirectory, LegacyIssuer.FileName)).Trim() : "";

    /// <summary>SIGKILL a replica (a node failure, an OOM kill) and start it again in the same mode.</summary>
    public async Task KillAndRestartProxyAsync(int replica, bool stateless)
    {
        Kill(_proxies[replica]);
        await StartProxyAsync(replica, stateless);
    }

    /// <summary>A container restart: SIGKILL, then the same replica (still published) with its own list copy; waits until it listens only.</summary>
    public async Task KillAndRestartProxyAsync(int replica, bool stateless, string legacyTokensDirectory, int syncWaitSeconds)
    {
        Kill(_proxies[replica]);
        await StartProxyAsync(replica, stateless, publish: _published[replica], legacyTokensDirectory, syncWaitSeconds, waitReady: false);
    }

    /// <param name="grace">JOBS_MANAGER_LEGACY_TOKEN_GRACE_SECONDS (also how long a registration is pushed to every legacy replica); null: <see cref="Grace"/>.</param>
    public async Task StartManagerAsync(bool stateless, TimeSpan? grace = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{_managerPort}",
            [EnvironmentVariables.Runtime] = "local",
            [EnvironmentVariables.Stateless] = stateless ? "true" : "false",
            [EnvironmentVariables.KeysDirectory] = Keys.Path,
            [EnvironmentVariables.KeysPollSeconds] = "1",
            [EnvironmentVariables.RevokedDirectory] = Revoked.Path,
            [EnvironmentVariables.LegacyTokensDirectory] = LegacyTokensDirectory,
            [EnvironmentVariables.AdminTokenFile] = Folder.Combine("admin", "token"),
            [EnvironmentVariables.ProxyUrl] = ProxyAddress(0).ToString(),
            [EnvironmentVariables.ProxyPodsFile] = Folder.Combine("replicas"),
            [EnvironmentVariables.StateDirectory] = StateDirectory,
            [EnvironmentVariables.LocalKeepJobs] = "true",
            [EnvironmentVariables.LegacyTokenGraceSeconds] = (grace ?? Grace).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [EnvironmentVariables.TokenTtlSeconds] = "600",
            [EnvironmentVariables.RefreshCheckSeconds] = "1",
            [EnvironmentVariables.PruneIntervalSeconds] = "1",
        };
        Manager = ServiceProcess.Start(ServiceProcess.FindAssembly("jobs-manager"), environment);
        await Manager.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        await Manager.WaitForOkAsync(new Uri(ManagerAddress, "/readyz"), TimeSpan.FromSeconds(30));
    }

    /// <summary>The chart's <c>Recreate</c> strategy: the old jobs-manager stops (SIGTERM) before the new one starts.</summary>
    public async Task RecreateManagerAsync(bool stateless)
    {
        await TerminateAsync(Manager);
        await StartManagerAsync(stateless);
    }

    /// <summary>SIGKILL to the jobs-manager process alone (its pod dies; its Jobs do not).</summary>
    public void KillManager()
    {
        if (Manager is { HasExited: false } manager)
        {
            using var process = System.Diagnostics.Process.GetProcessById(manager.Id);
            process.Kill(entireProcessTree: false);
            process.WaitForExit(10_000);
            _exited.Add(manager);
        }
    }

    /// <summary>Starts a job (a process that only lives) and returns its token file.</summary>
    public async Task<string> StartJobAsync(string name)
    {
        using var response = await _http.PostAsJsonAsync(new Uri(ManagerAddress, "/v1/jobs"), new { name, command = new[] { "/bin/sh", "-c", "while :; do sleep 1; done" } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST /v1/jobs {name}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("tokenFile").GetString()!;
    }

    public async Task StopJobAsync(string name)
    {
        using var response = await _http.DeleteAsync(new Uri(ManagerAddress, $"/v1/jobs/{name}"));
        Assert.True(response.IsSuccessStatusCode, $"DELETE /v1/jobs/{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public LegacyTokenList LegacyTokens()
    {
        var bytes = File.ReadAllBytes(Path.Combine(LegacyTokensDirectory, LegacyTokenList.FileName));
        Assert.True(LegacyTokenList.TryParse(bytes, out var list, out var error), error);
        return list;
    }

    /// <summary>POSTs once with <paramref name="token"/> to one replica; the status code.</summary>
    public async Task<int> ProbeAsync(int replica, string subject, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(ProxyAddress(replica), $"/v1/jobs/{subject}/results")) { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var response = await client.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>Every process's output, for a failure message.</summary>
    public string Logs() => string.Join("\n----\n", _exited.Concat(_proxies.OfType<ServiceProcess>()).Append(Manager).OfType<ServiceProcess>().Distinct()
        .Select(p => $"{Path.GetFileName(p.AssemblyPath)}:\n{string.Join('\n', p.OutputLines.TakeLast(40))}"));

    public async ValueTask DisposeAsync()
    {
        // Stop the jobs first: they outlive the jobs-manager by design.
        if (Manager is { HasExited: false })
        {
            foreach (var folder in Directory.Exists(Path.Combine(StateDirectory, "jobs")) ? Directory.GetDirectories(Path.Combine(StateDirectory, "jobs")) : [])
            {
                try
                {
                    (await _http.DeleteAsync(new Uri(ManagerAddress, $"/v1/jobs/{Path.GetFileName(folder)}"))).Dispose();
                }
                catch (HttpRequestException)
                {
                }
            }
        }

        KillLeftJobs();
        foreach (var process in _proxies.OfType<ServiceProcess>().Concat(_exited).Append(Manager).OfType<ServiceProcess>().Distinct())
        {
            await process.DisposeAsync();
        }

        _http.Dispose();
        await Upstream.DisposeAsync();
        Folder.Dispose();
    }

    private async Task TerminateAsync(ServiceProcess? process)
    {
        if (process is not null)
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(30));
            _exited.Add(process);
        }
    }

    private void Kill(ServiceProcess? process)
    {
        if (process is not null)
        {
            process.Kill();
            _exited.Add(process);
        }
    }

    /// <summary>Any job process a failed test left behind (its pid is in the job folder's process.json).</summary>
    private void KillLeftJobs()
    {
        var jobs = Path.Combine(StateDirectory, "jobs");
        foreach (var record in Directory.Exists(jobs) ? Directory.GetFiles(jobs, "process.json", SearchOption.AllDirectories) : [])
        {
            try
            {
                var json = JsonDocument.Parse(File.ReadAllText(record)).RootElement;
                using var process = System.Diagnostics.Process.GetProcessById(json.GetProperty("pid").GetInt32());
                var started = DateTimeOffset.FromUnixTimeMilliseconds(json.GetProperty("startedAtUnixMs").GetInt64());
                if ((new DateTimeOffset(process.StartTime.ToUniversalTime()) - started).Duration() < TimeSpan.FromSeconds(1))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or JsonException or KeyNotFoundException)
            {
            }
        }
    }
}
