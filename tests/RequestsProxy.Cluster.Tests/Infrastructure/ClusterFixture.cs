using System.Diagnostics;
using System.Text;
using k8s;
using RequestsProxy.Testing.Tools;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>
/// The real cluster, once for the whole test project: <c>tests/cluster/up</c> (a Ready node),
/// <c>tests/cluster/images</c> (the product's images pushed to the local registry), and
/// <c>tests/cluster/down</c> at the end. Phase times go to the test log as diagnostic messages.
/// Set <c>REQUESTS_PROXY_CLUSTER_KEEP=1</c> to leave the cluster up for inspection
/// (<c>source /run/requests-proxy-cluster/cluster.env</c>; <c>tests/cluster/down</c> afterwards),
/// <c>REQUESTS_PROXY_CLUSTER_REUSE=1</c> to run against a cluster that is already up and keep it.
/// </summary>
public sealed class ClusterFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(40);
    private static readonly TimeSpan ImagesTimeout = TimeSpan.FromMinutes(15);

    private string? _failure;
    private Dictionary<string, string> _env = new(StringComparer.Ordinal);
    private IKubernetes? _client;

    public IKubernetes Client => _client ?? throw Unavailable();

    public string Registry => Env("REGISTRY");

    public string AppVersion => Env("APP_VERSION");

    public string WorkloadImage => Env("WORKLOAD_IMAGE");

    public string KubernetesVersion => Env("KUBERNETES_VERSION");

    public string Kubeconfig => Env("KUBECONFIG");

    public string DockerHost => Env("DOCKER_HOST");

    public string LogsDirectory => Env("LOGS_DIR");

    /// <summary>Where measurements are kept between runs (reports/), outside the torn-down state.</summary>
    public string CacheDirectory => Env("CACHE_DIR");

    /// <summary>The kubelet's sync period (Secret/ConfigMap volume refresh), e.g. <c>5s</c>.</summary>
    public TimeSpan KubeletSync => TimeSpan.FromSeconds(int.Parse(Env("KUBELET_SYNC").TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture));

    public static string ChartPath => Path.Combine(RepositoryRoot.Path, "deploy", "charts", "requests-proxy");

    /// <summary>REQUESTS_PROXY_CLUSTER_REUSE=1 (for development): use a cluster that is up, leave it up.</summary>
    private static bool Reuse => Environment.GetEnvironmentVariable("REQUESTS_PROXY_CLUSTER_REUSE") == "1";

    private static string Scripts => Path.Combine(RepositoryRoot.Path, "tests", "cluster");

    public async Task InitializeAsync()
    {
        if (ClusterAvailability.SkipReason is { } reason)
        {
            Say(reason);
            return;
        }

        var owner = new Dictionary<string, string> { ["REQUESTS_PROXY_CLUSTER_OWNER_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var stateDir = Environment.GetEnvironmentVariable("REQUESTS_PROXY_CLUSTER_STATE") is { Length: > 0 } s ? s : "/run/requests-proxy-cluster";
        var reuse = Reuse && File.Exists(Path.Combine(stateDir, "cluster.env"));
        if (reuse)
        {
            Say($"REQUESTS_PROXY_CLUSTER_REUSE=1: using the cluster already up in {stateDir}");
        }

        if ((!reuse && !await StepAsync("up", UpTimeout, owner)) || !await StepAsync("images", ImagesTimeout, owner))
        {
            return;
        }

        foreach (var line in await File.ReadAllLinesAsync(Path.Combine(stateDir, "cluster.env")))
        {
            var at = line.IndexOf('=', StringComparison.Ordinal);
            if (at > 0)
            {
                _env[line[..at]] = line[(at + 1)..];
            }
        }

        _client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (ClusterAvailability.SkipReason is not null)
        {
            return;
        }

        if (Reuse || Environment.GetEnvironmentVariable("REQUESTS_PROXY_CLUSTER_KEEP") == "1")
        {
            Say("REQUESTS_PROXY_CLUSTER_KEEP=1: the cluster stays up; tear it down with tests/cluster/down");
            return;
        }

        await StepAsync("down", TimeSpan.FromMinutes(3), null);
    }

    /// <summary>Throws the reason the cluster is not there (a failed <c>up</c>), so each test fails with it.</summary>
    public void EnsureUp()
    {
        if (_failure is not null)
        {
            throw new XunitException(_failure);
        }

        _ = Client;
    }

    public Task<ToolResult> HelmAsync(params string[] arguments) => ToolAsync(Env("HELM"), arguments, TimeSpan.FromMinutes(6));

    public Task<ToolResult> KubectlAsync(params string[] arguments) => ToolAsync(Env("KUBECTL"), arguments, TimeSpan.FromMinutes(3));

    public Task<ToolResult> DockerAsync(params string[] arguments) => ToolAsync("/usr/bin/docker", ["-H", DockerHost, .. arguments], TimeSpan.FromMinutes(2));

    /// <summary>Runs helm and returns its stdout; throws with both outputs when it fails.</summary>
    public async Task<string> HelmCheckedAsync(params string[] arguments) => Checked("helm", arguments, await HelmAsync(arguments));

    public async Task<string> KubectlCheckedAsync(params string[] arguments) => Checked("kubectl", arguments, await KubectlAsync(arguments));

    public async Task<string> DockerCheckedAsync(params string[] arguments) => Checked("docker", arguments, await DockerAsync(arguments));

    /// <summary>Everything useful when a test fails: objects, events, pod logs of the namespace.</summary>
    public async Task DumpAsync(string @namespace, ITestOutputHelper output)
    {
        await DumpOneAsync(@namespace, output);

        // The chart's default job namespace, where the training Jobs ran.
        if ((await KubectlAsync("get", "namespace", $"{@namespace}-jobs")).Succeeded)
        {
            await DumpOneAsync($"{@namespace}-jobs", output);
        }
    }

    private async Task DumpOneAsync(string @namespace, ITestOutputHelper output)
    {
        var text = new StringBuilder();
        foreach (var args in new[]
        {
            new[] { "-n", @namespace, "get", "all,secrets,configmaps,pdb,roles,rolebindings", "-o", "wide" },
            ["-n", @namespace, "get", "events", "--sort-by=.lastTimestamp"],
            ["-n", @namespace, "describe", "pods"],
        })
        {
            var r = await KubectlAsync(args);
            text.AppendLine($"$ kubectl {string.Join(' ', args)}").AppendLine(r.StandardOutput).AppendLine(r.StandardError);
        }

        var pods = await KubectlAsync("-n", @namespace, "get", "pods", "-o", "name");
        foreach (var pod in pods.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var previous in new[] { false, true })
            {
                var r = await KubectlAsync("-n", @namespace, "logs", pod, "--all-containers", "--tail=80", $"--previous={previous.ToString().ToLowerInvariant()}");
                if (r.Succeeded && r.StandardOutput.Length > 0)
                {
                    text.AppendLine($"--- logs {pod}{(previous ? " (previous)" : "")}").AppendLine(r.StandardOutput);
                }
            }
        }

        var dump = text.ToString();
        output.WriteLine(dump);
        await File.WriteAllTextAsync(Path.Combine(LogsDirectory, $"dump-{@namespace}-{DateTime.UtcNow:HHmmss}.txt"), dump);
    }

    private async Task<bool> StepAsync(string script, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment)
    {
        var stopwatch = Stopwatch.StartNew();
        ToolResult result;
        try
        {
            result = await ToolProcess.RunAsync("bash", [Path.Combine(Scripts, script)], RepositoryRoot.Path, environment, timeout);
        }
        catch (TimeoutException e)
        {
            _failure = $"tests/cluster/{script} did not finish within {timeout.TotalMinutes:0} min: {e.Message}";
            Say(_failure);
            return false;
        }

        foreach (var line in result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("[cluster]", StringComparison.Ordinal)))
        {
            Say(line);
        }

        Say($"[cluster] tests/cluster/{script} took {stopwatch.Elapsed.TotalSeconds:0.0} s");
        if (!result.Succeeded)
        {
            _failure = $"tests/cluster/{script} failed ({result.ExitCode}):\n{result.StandardError}\n{result.StandardOutput}";
            Say(_failure);
            return false;
        }

        return true;
    }

    private Task<ToolResult> ToolAsync(string file, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var state = Env("STATE_DIR");
        var environment = new Dictionary<string, string>
        {
            ["KUBECONFIG"] = Kubeconfig,
            ["HELM_CACHE_HOME"] = Path.Combine(state, "helm", "cache"),
            ["HELM_CONFIG_HOME"] = Path.Combine(state, "helm", "config"),
            ["HELM_DATA_HOME"] = Path.Combine(state, "helm", "data"),
        };
        return ToolProcess.RunAsync(file, arguments, RepositoryRoot.Path, environment, timeout);
    }

    private static string Checked(string tool, IEnumerable<string> arguments, ToolResult result) =>
        result.Succeeded
            ? result.StandardOutput
            : throw new XunitException($"{tool} {string.Join(' ', arguments)} failed ({result.ExitCode}):\n{result.StandardError}\n{result.StandardOutput}");

    private string Env(string key) =>
        _env.TryGetValue(key, out var value) ? value : throw Unavailable();

    private XunitException Unavailable() => new(_failure ?? ClusterAvailability.SkipReason ?? "the cluster fixture did not start");

    private void Say(string message) => diagnostics.OnMessage(new DiagnosticMessage(message));
}
