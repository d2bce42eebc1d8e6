using Microsoft.Extensions.Configuration;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Jwt;

namespace RequestsProxy.JobsManager;

/// <summary>
/// Every setting of the jobs-manager, read from the environment contract of docs/architecture.md
/// (<see cref="EnvironmentVariables"/>) in one place and validated at start.
/// </summary>
internal sealed class JobsManagerOptions
{
    public const string DefaultUrls = "http://0.0.0.0:8080";

    public JobRuntimeKind Runtime { get; set; } = JobRuntimeKind.Local;

    /// <summary>False: legacy mode, opaque tokens registered with the proxy's admin endpoint.</summary>
    public bool Stateless { get; set; } = true;

    public string KeysDirectory { get; set; } = "/etc/proxy/keys";

    public TimeSpan KeysPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan TokenLifetime { get; set; } = TokenDefaults.Lifetime;

    public string DefaultScope { get; set; } = TokenDefaults.Scope;

    public string Audience { get; set; } = TokenDefaults.Audience;

    public string Issuer { get; set; } = TokenDefaults.Issuer;

    /// <summary>Clock-skew leeway; revocation entries live until exp + leeway.</summary>
    public TimeSpan Leeway { get; set; } = TokenDefaults.Leeway;

    public string AdminTokenFile { get; set; } = "/etc/proxy/admin/token";

    /// <summary>The proxy URL handed to jobs (and used for legacy registration).</summary>
    public Uri ProxyUrl { get; set; } = new("http://127.0.0.1:8888");

    /// <summary>
    /// Legacy mode with several proxy replicas: a DNS name (a headless Service) resolving to every
    /// proxy pod, each of which gets every registration. Null: register at <see cref="ProxyUrl"/> only.
    /// </summary>
    public string? ProxyPodsHost { get; set; }

    /// <summary>
    /// With <see cref="ProxyPodsHost"/>: a DNS name resolving to the legacy-mode proxy pods only (the
    /// chart's <c>-legacy-pods</c> Service). Only those get the admin token; any other pod counts as
    /// stateless. Null: every pod of <see cref="ProxyPodsHost"/> is taken to be legacy.
    /// </summary>
    public string? ProxyLegacyPodsHost { get; set; }

    /// <summary>Legacy mode: how often registrations still young enough to matter are pushed to every legacy replica, which is then told it is synced.</summary>
    public TimeSpan LegacySyncInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Local runtime with several proxy replicas (processes on ports, as <c>rpctl demo --cutover</c> runs
    /// them): a file naming each replica's base URL, one a line, re-read at every registration like
    /// the headless Service's DNS name. Wins over <see cref="ProxyPodsHost"/>.
    /// </summary>
    public string? ProxyPodsFile { get; set; }

    /// <summary>
    /// Local runtime: jobs keep running when the jobs-manager exits, and the next jobs-manager on the
    /// same state directory adopts them, as Kubernetes Jobs outlive a jobs-manager pod. False (the
    /// default): a laptop's jobs-manager takes its children with it.
    /// </summary>
    public bool LocalKeepJobs { get; set; }

    /// <summary>The proxy pods' own port (the Service's may differ); null: the port of <see cref="ProxyUrl"/>.</summary>
    public int? ProxyPodsPort { get; set; }

    public string? ReleaseName { get; set; }

    /// <summary>The namespace the jobs-manager itself runs in (the release namespace: keys, ledger, revocation list).</summary>
    public string? Namespace { get; set; }

    /// <summary>
    /// Kubernetes runtime: the namespaces training Jobs and their token Secrets live in
    /// (JOBS_MANAGER_JOB_NAMESPACES); the first is the default of a start request. Empty: <see cref="Namespace"/>.
    /// </summary>
    public IReadOnlyList<string> JobNamespaces { get; set; } = [];

    /// <summary>Where jobs go: <see cref="JobNamespaces"/>, or the jobs-manager's own namespace when none are set.</summary>
    public IReadOnlyList<string> EffectiveJobNamespaces => JobNamespaces.Count > 0 ? JobNamespaces : Namespace is { } ns ? [ns] : [];

    /// <summary>The namespace a start request without one goes to.</summary>
    public string? DefaultJobNamespace => EffectiveJobNamespaces.Count > 0 ? EffectiveJobNamespaces[0] : null;

    public string RevokedConfigMapName { get; set; } = "requests-proxy-revoked";

    /// <summary>Kubernetes runtime: the ConfigMap holding the job ledger (jobs.json), so a restart forgets no job and no token.</summary>
    public string StateConfigMapName { get; set; } = "jobs-manager-state";

    /// <summary>Kubernetes runtime: the ConfigMap listing the live legacy tokens (legacy-tokens.json) every proxy mounts.</summary>
    public string LegacyTokensConfigMapName { get; set; } = "requests-proxy-legacy-tokens";

    /// <summary>Local runtime: the folder holding legacy-tokens.json (the proxy's REQUESTS_PROXY_LEGACY_TOKENS_DIR).</summary>
    public string LegacyTokensDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "requests-proxy-jobs-manager", "legacy-tokens");

    /// <summary>
    /// How long a job's legacy token keeps working after a stateless jobs-manager delivered its JWT:
    /// the kubelet's Secret sync (about a minute by default) plus the proxies' poll, with margin.
    /// </summary>
    public TimeSpan LegacyTokenGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Local runtime: per-job folders (token file, logs) and the job ledger jobs.json.</summary>
    public string StateDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "requests-proxy-jobs-manager");

    /// <summary>Local runtime: the folder holding revoked.json (the proxy's REQUESTS_PROXY_REVOKED_DIR).</summary>
    public string RevokedDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "requests-proxy-jobs-manager", "revoked");

    /// <summary>How often live jobs are checked for a token that needs re-minting.</summary>
    public TimeSpan RefreshCheckInterval { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// ConfigMaps the revocation list is spread over (REVOKED_CONFIGMAP_SHARDS, 1–64): the list may
    /// take 1 MiB per shard. 1 is the single-ConfigMap layout.
    /// </summary>
    public int RevocationShards { get; set; } = 1;

    public const int MaxRevocationShards = 64;

    /// <summary>
    /// Adopt mode: Jobs created by other tools with the label requests-proxy.io/token=true in
    /// <see cref="AdoptionNamespaces"/> get a token Secret (Kubernetes runtime only; off by default).
    /// </summary>
    public bool Adopt { get; set; }

    /// <summary>
    /// Recreate, empty, a store ConfigMap (revocation shard, ledger, legacy list) that is missing while
    /// the others exist. Off: such a ConfigMap was deleted, and an empty one would forget what it held
    /// (revoked tokens accepted again, running jobs unknown), so the jobs-manager stays unready naming it.
    /// </summary>
    public bool RecreateMissingStores { get; set; }

    /// <summary>The namespaces whose labelled Jobs are adopted: the job namespaces, never the release namespace (unless it is the only one).</summary>
    public IReadOnlyList<string> AdoptionNamespaces => EffectiveJobNamespaces;

    /// <summary>The relaxations of the hardened pod that job templates may ask for (strict by default).</summary>
    public PodPolicy PodPolicy { get; set; } = PodPolicy.Strict;

    /// <summary>Upper bound of read → modify → replace attempts of a ConfigMap (the revocation list and the job ledger).</summary>
    public int RevocationUpdateAttempts { get; set; } = 20;

    /// <summary>Reads the documented environment variables with the shared parser (through configuration, which includes the environment).</summary>
    /// <exception cref="InvalidSettingsException">Any value is invalid, or the values together cannot run a jobs-manager; every problem is listed.</exception>
    public static JobsManagerOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var env = new EnvironmentReader(configuration);
        var options = new JobsManagerOptions();

        options.Runtime = env.Choice(EnvironmentVariables.Runtime, options.Runtime, ("local", JobRuntimeKind.Local), ("kubernetes", JobRuntimeKind.Kubernetes));
        options.Stateless = env.Flag(EnvironmentVariables.Stateless, options.Stateless);
        options.ReleaseName = env.Text(EnvironmentVariables.ReleaseName);
        options.Namespace = env.Text(EnvironmentVariables.Namespace);
        options.JobNamespaces = [.. (env.Text(EnvironmentVariables.JobNamespaces) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
        options.KeysDirectory = env.Text(EnvironmentVariables.KeysDirectory, options.KeysDirectory);
        options.AdminTokenFile = env.Text(EnvironmentVariables.AdminTokenFile, options.AdminTokenFile);
        // Relative folders are resolved against the working folder at start, once: local jobs run elsewhere.
        options.StateDirectory = Path.GetFullPath(env.Text(EnvironmentVariables.StateDirectory, options.StateDirectory));
        options.RevokedDirectory = Path.GetFullPath(env.Text(EnvironmentVariables.RevokedDirectory, Path.Combine(options.StateDirectory, "revoked")));
        options.LegacyTokensDirectory = Path.GetFullPath(env.Text(EnvironmentVariables.LegacyTokensDirectory, Path.Combine(options.StateDirectory, "legacy-tokens")));
        options.LegacyTokensConfigMapName = env.Text(EnvironmentVariables.LegacyTokensConfigMapName)
            ?? (options.ReleaseName is { } legacyRelease ? $"{legacyRelease}-requests-proxy-legacy-tokens" : options.LegacyTokensConfigMapName);
        options.RevokedConfigMapName = env.Text(EnvironmentVariables.RevokedConfigMapName)
            ?? (options.ReleaseName is { } releaseName ? $"{releaseName}-requests-proxy-revoked" : options.RevokedConfigMapName);
        options.RevocationShards = (int)Math.Min(env.PositiveInteger(EnvironmentVariables.RevokedConfigMapShards, options.RevocationShards), int.MaxValue);
        options.PodPolicy = new PodPolicy(
            env.Flag(EnvironmentVariables.AllowRunAsRoot, false),
            env.Flag(EnvironmentVariables.AllowWritableRootFilesystem, false),
            [.. (env.Text(EnvironmentVariables.AllowedCapabilities) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            [.. (env.Text(EnvironmentVariables.AllowedSysctls) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            env.Flag(EnvironmentVariables.AllowTolerateAll, false),
            env.Flag(EnvironmentVariables.AllowControlPlaneNodes, false));
        options.Adopt = env.Flag(EnvironmentVariables.Adopt, options.Adopt);
        options.RecreateMissingStores = env.Flag(EnvironmentVariables.RecreateMissingStores, options.RecreateMissingStores);
        options.StateConfigMapName = env.Text(EnvironmentVariables.StateConfigMapName)
            ?? (options.ReleaseName is { } stateRelease ? $"{stateRelease}-jobs-manager-state" : options.StateConfigMapName);
        options.Audience = env.Text(EnvironmentVariables.Audience, options.Audience);
        options.Issuer = env.Text(EnvironmentVariables.Issuer, options.Issuer);
        options.DefaultScope = env.Text(EnvironmentVariables.DefaultScope, options.DefaultScope);
        options.ProxyUrl = env.HttpUrl(EnvironmentVariables.ProxyUrl)
            ?? (options.ReleaseName is { } release && options.Namespace is { } ns ? new Uri($"http://{release}-requests-proxy.{ns}.svc:8888") : options.ProxyUrl);
        options.ProxyPodsHost = env.HostName(EnvironmentVariables.ProxyPodsDns);
        options.ProxyLegacyPodsHost = env.HostName(EnvironmentVariables.ProxyLegacyPodsDns);
        options.ProxyPodsPort = env.Port(EnvironmentVariables.ProxyPodsPort);
        options.ProxyPodsFile = env.Text(EnvironmentVariables.ProxyPodsFile) is { } podsFile ? Path.GetFullPath(podsFile) : null;
        options.LocalKeepJobs = env.Flag(EnvironmentVariables.LocalKeepJobs, options.LocalKeepJobs);
        options.TokenLifetime = env.Seconds(EnvironmentVariables.TokenTtlSeconds, options.TokenLifetime);
        options.KeysPollInterval = env.Seconds(EnvironmentVariables.KeysPollSeconds, options.KeysPollInterval);
        options.Leeway = env.Seconds(EnvironmentVariables.LeewaySeconds, options.Leeway, allowZero: true);

        // A short TTL (the demo's) needs checks well inside half a lifetime; a long one needs no more than a minute.
        var defaultCheck = TimeSpan.FromSeconds(Math.Clamp(options.TokenLifetime.TotalSeconds / 10, 1, 60));
        options.RefreshCheckInterval = env.Seconds(EnvironmentVariables.RefreshCheckSeconds, defaultCheck);
        options.PruneInterval = env.Seconds(EnvironmentVariables.PruneIntervalSeconds, options.PruneInterval);
        options.LegacyTokenGrace = env.Seconds(EnvironmentVariables.LegacyTokenGraceSeconds, options.LegacyTokenGrace);

        foreach (var problem in options.Validate())
        {
            env.Fail(problem);
        }

        env.ThrowIfInvalid();
        return options;
    }

    /// <summary>Every problem at once, so an operator fixes the environment in one go.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (TokenLifetime < TimeSpan.FromSeconds(10))
        {
            errors.Add("the token lifetime must be at least 10 seconds");
        }

        if (RefreshCheckInterval <= TimeSpan.Zero || RefreshCheckInterval >= TokenLifetime / 2)
        {
            errors.Add("the refresh check interval must be positive and shorter than half the token lifetime");
        }

        if (Runtime == JobRuntimeKind.Kubernetes && string.IsNullOrEmpty(Namespace))
        {
            errors.Add($"{EnvironmentVariables.Namespace} is required by the kubernetes runtime");
        }

        if (Adopt && Runtime != JobRuntimeKind.Kubernetes)
        {
            errors.Add($"{EnvironmentVariables.Adopt}=true watches Kubernetes Jobs: it needs {EnvironmentVariables.Runtime}=kubernetes");
        }

        foreach (var ns in JobNamespaces.Where(n => !IsNamespaceName(n)))
        {
            errors.Add($"'{ns}' in {EnvironmentVariables.JobNamespaces} is not a namespace name (a DNS label: [a-z0-9-], at most 63 characters)");
        }

        foreach (var sysctl in PodPolicy.Sysctls.Where(s => !IsSysctlPattern(s)))
        {
            errors.Add($"'{sysctl}' in {EnvironmentVariables.AllowedSysctls} is not a sysctl name or a prefix ending in '*' (e.g. kernel.msgmax, net.core.*)");
        }

        if (RevocationShards is < 1 or > MaxRevocationShards)
        {
            errors.Add($"the revocation list needs 1 to {MaxRevocationShards} shards ({EnvironmentVariables.RevokedConfigMapShards}), not {RevocationShards}");
        }

        if (RevocationUpdateAttempts < 1)
        {
            errors.Add("at least one revocation update attempt is required");
        }

        return errors;
    }

    private static bool IsSysctlPattern(string pattern)
    {
        var name = pattern.EndsWith('*') ? pattern[..^1] : pattern;
        return (name.Length > 0 || pattern == "*") && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.' or '/');
    }

    private static bool IsNamespaceName(string name) =>
        name.Length is > 0 and <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && name[0] != '-' && name[^1] != '-';
}
