using System.Globalization;
using Microsoft.Extensions.Configuration;
using RequestsProxy.Tokens.Jwt;

namespace RequestsProxy.JobsManager;

/// <summary>
/// Every setting of the jobs-manager, read from the environment contract of docs/architecture.md
/// in one place and validated at start. Public so a host (the demo) can build the app in-process.
/// </summary>
public sealed class JobsManagerOptions
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

    /// <summary>The proxy pods' own port (the Service's may differ); null: the port of <see cref="ProxyUrl"/>.</summary>
    public int? ProxyPodsPort { get; set; }

    public string? ReleaseName { get; set; }

    public string? Namespace { get; set; }

    public string RevokedConfigMapName { get; set; } = "requests-proxy-revoked";

    /// <summary>Kubernetes runtime: the ConfigMap holding the job ledger (jobs.json), so a restart forgets no job and no token.</summary>
    public string StateConfigMapName { get; set; } = "jobs-manager-state";

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

    /// <summary>Upper bound of read → modify → replace attempts of a ConfigMap (the revocation list and the job ledger).</summary>
    public int RevocationUpdateAttempts { get; set; } = 20;

    /// <summary>Reads the documented environment variables (through configuration, which includes the environment).</summary>
    public static JobsManagerOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new JobsManagerOptions();
        var errors = new List<string>();

        string? Get(string name) => configuration[name] is { Length: > 0 } v ? v.Trim() : null;

        if (Get("JOBS_MANAGER_RUNTIME") is { } runtime)
        {
            if (runtime.Equals("local", StringComparison.OrdinalIgnoreCase))
            {
                options.Runtime = JobRuntimeKind.Local;
            }
            else if (runtime.Equals("kubernetes", StringComparison.OrdinalIgnoreCase))
            {
                options.Runtime = JobRuntimeKind.Kubernetes;
            }
            else
            {
                errors.Add($"JOBS_MANAGER_RUNTIME must be 'local' or 'kubernetes', not '{runtime}'");
            }
        }

        if (Get("REQUESTS_PROXY_STATELESS") is { } stateless)
        {
            if (bool.TryParse(stateless, out var b))
            {
                options.Stateless = b;
            }
            else
            {
                errors.Add($"REQUESTS_PROXY_STATELESS must be 'true' or 'false', not '{stateless}'");
            }
        }

        options.ReleaseName = Get("RELEASE_NAME");
        options.Namespace = Get("NAMESPACE");
        options.KeysDirectory = Get("REQUESTS_PROXY_KEYS_DIR") ?? options.KeysDirectory;
        options.AdminTokenFile = Get("REQUESTS_PROXY_ADMIN_TOKEN_FILE") ?? options.AdminTokenFile;
        options.StateDirectory = Get("JOBS_MANAGER_STATE_DIR") ?? options.StateDirectory;
        options.RevokedDirectory = Get("REQUESTS_PROXY_REVOKED_DIR") ?? Path.Combine(options.StateDirectory, "revoked");
        options.RevokedConfigMapName = Get("REVOKED_CONFIGMAP_NAME")
            ?? (options.ReleaseName is { } releaseName ? $"{releaseName}-requests-proxy-revoked" : options.RevokedConfigMapName);
        if (Get("REVOKED_CONFIGMAP_SHARDS") is { } shards)
        {
            if (int.TryParse(shards, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                options.RevocationShards = count;
            }
            else
            {
                errors.Add($"REVOKED_CONFIGMAP_SHARDS must be a whole number from 1 to {MaxRevocationShards}, not '{shards}'");
            }
        }

        options.StateConfigMapName = Get("JOBS_MANAGER_STATE_CONFIGMAP_NAME")
            ?? (options.ReleaseName is { } stateRelease ? $"{stateRelease}-jobs-manager-state" : options.StateConfigMapName);
        options.Audience = Get("REQUESTS_PROXY_AUDIENCE") ?? options.Audience;
        options.Issuer = Get("REQUESTS_PROXY_ISSUER") ?? options.Issuer;
        options.DefaultScope = Get("JOBS_MANAGER_DEFAULT_SCOPE") ?? options.DefaultScope;

        if (Get("REQUESTS_PROXY_URL") is { } url)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                options.ProxyUrl = uri;
            }
            else
            {
                errors.Add($"REQUESTS_PROXY_URL must be an absolute http(s) URL, not '{url}'");
            }
        }
        else if (options.ReleaseName is { } release && options.Namespace is { } ns)
        {
            options.ProxyUrl = new Uri($"http://{release}-requests-proxy.{ns}.svc:8888");
        }

        if (Get("REQUESTS_PROXY_PODS_DNS") is { } podsHost)
        {
            if (Uri.CheckHostName(podsHost) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
            {
                options.ProxyPodsHost = podsHost;
            }
            else
            {
                errors.Add($"REQUESTS_PROXY_PODS_DNS must be a DNS name (the proxy's headless Service), not '{podsHost}'");
            }
        }

        if (Get("REQUESTS_PROXY_PODS_PORT") is { } podsPort)
        {
            if (int.TryParse(podsPort, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535)
            {
                options.ProxyPodsPort = port;
            }
            else
            {
                errors.Add($"REQUESTS_PROXY_PODS_PORT must be a port number (1-65535), not '{podsPort}'");
            }
        }

        options.TokenLifetime = Seconds(Get("REQUESTS_PROXY_TOKEN_TTL_SECONDS"), "REQUESTS_PROXY_TOKEN_TTL_SECONDS", options.TokenLifetime, errors);
        options.KeysPollInterval = Seconds(Get("REQUESTS_PROXY_KEYS_POLL_SECONDS"), "REQUESTS_PROXY_KEYS_POLL_SECONDS", options.KeysPollInterval, errors);
        options.Leeway = Seconds(Get("REQUESTS_PROXY_LEEWAY_SECONDS"), "REQUESTS_PROXY_LEEWAY_SECONDS", options.Leeway, errors, allowZero: true);

        // A short TTL (the demo's) needs checks well inside half a lifetime; a long one needs no more than a minute.
        var defaultCheck = TimeSpan.FromSeconds(Math.Clamp(options.TokenLifetime.TotalSeconds / 10, 1, 60));
        options.RefreshCheckInterval = Seconds(Get("JOBS_MANAGER_REFRESH_CHECK_SECONDS"), "JOBS_MANAGER_REFRESH_CHECK_SECONDS", defaultCheck, errors);
        options.PruneInterval = Seconds(Get("JOBS_MANAGER_PRUNE_INTERVAL_SECONDS"), "JOBS_MANAGER_PRUNE_INTERVAL_SECONDS", options.PruneInterval, errors);

        errors.AddRange(options.Validate());
        if (errors.Count > 0)
        {
            throw new JobsManagerConfigurationException(errors);
        }

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
            errors.Add("NAMESPACE is required by the kubernetes runtime");
        }

        if (RevocationShards is < 1 or > MaxRevocationShards)
        {
            errors.Add($"the revocation list needs 1 to {MaxRevocationShards} shards (REVOKED_CONFIGMAP_SHARDS), not {RevocationShards}");
        }

        if (RevocationUpdateAttempts < 1)
        {
            errors.Add("at least one revocation update attempt is required");
        }

        return errors;
    }

    private static TimeSpan Seconds(string? value, string name, TimeSpan fallback, List<string> errors, bool allowZero = false)
    {
        if (value is null)
        {
            return fallback;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && (seconds > 0 || (allowZero && seconds == 0)))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        errors.Add($"{name} must be a {(allowZero ? "non-negative" : "positive")} whole number of seconds, not '{value}'");
        return fallback;
    }
}
