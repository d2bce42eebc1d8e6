using System.Globalization;
using System.Net;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Admin;
using RequestsProxy.Tokens.Jwt;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// Every setting of the proxy, read once at start from the environment contract of
/// docs/architecture.md (<see cref="EnvironmentVariables"/>; configuration keys are the names).
/// </summary>
internal sealed record ProxySettings
{
    public const string DefaultUrls = "http://0.0.0.0:8888";
    public const string DefaultRoutesFile = "/etc/proxy/routes/routes.json";
    public const long DefaultMaxBodyBytes = 10 * 1024 * 1024;
    public const string DefaultManagementUrls = "http://0.0.0.0:9090";
    public const int DefaultMaxConnections = 2_000;

    /// <summary>A request head's limit, and the unread input and unsent output Kestrel keeps per connection (each way).</summary>
    public const int ConnectionBufferBytes = 16 * 1024;

    /// <summary>The jobs-manager's limit (JobsManagerOptions.MaxRevocationShards); more is refused at start.</summary>
    public const int MaxRevokedShards = 64;

    public bool Stateless { get; init; } = true;

    public string KeysDirectory { get; init; } = "/etc/proxy/keys";

    public string RevokedDirectory { get; init; } = "/etc/proxy/revoked";

    /// <summary>The mounted list of live legacy token digests (DESIGN §12), read in both modes.</summary>
    public string LegacyTokensDirectory { get; init; } = "/etc/proxy/legacy-tokens";

    public TimeSpan LegacyTokensPollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Legacy mode: how long a started replica waits to be synced by the jobs-manager before it is ready anyway (zero: no wait).</summary>
    public TimeSpan LegacySyncWait { get; init; } = TimeSpan.Zero;

    public TimeSpan KeysPollInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RevokedPollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Null: whatever revocation files exist. N: exactly N shard files, each read once before ready (fail closed).</summary>
    public int? RevokedShards { get; init; }

    /// <summary>Not ready until the legacy token list has been read once (the chart's optional volume).</summary>
    public bool LegacyTokensRequired { get; init; }

    /// <summary>The catch-all route's upstream, used only when no route configuration exists.</summary>
    public Uri? Upstream { get; init; }

    public string? UpstreamCredentialFile { get; init; }

    /// <summary>The YARP routes file in force, or null when there is none.</summary>
    public string? RoutesFile { get; init; }

    public string AdminTokenFile { get; init; } = "/etc/proxy/admin/token";

    /// <summary>Legacy: admin requests may carry the admin token as a bearer token (an older jobs-manager) besides a signature.</summary>
    public bool AdminAcceptBearer { get; init; } = true;

    /// <summary>Legacy: DNS <c>host:port</c> targets a signed admin request may name besides this replica's address (REQUESTS_PROXY_ADMIN_TARGET_NAMES).</summary>
    public IReadOnlyList<string> AdminTargetNames { get; init; } = [];

    public TokenValidationOptions Validation { get; init; } = new();

    public long MaxRequestBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>Idle time allowed while waiting on upstream (YARP ActivityTimeout) when a cluster sets none.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(100);

    public TimeSpan UpstreamConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest a relay may last, however active (A8): a result is posted in seconds, and a tunnel or
    /// stream must not outlive its purpose. Zero: only the token's validity bounds it (<see cref="Forwarding.RelayLifetimes"/>).
    /// </summary>
    public TimeSpan MaxRequestDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Where <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> are served; the pod-facing URLs serve routes only.</summary>
    public string ManagementUrls { get; init; } = DefaultManagementUrls;

    /// <summary>Open connections allowed per pod-facing listening address (Kestrel <c>MaxConcurrentConnections</c>); more are closed at once.</summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>Open pod-facing connections allowed per client IP address; 0: no per-client cap (<see cref="ClientConnectionLimit"/>).</summary>
    public int MaxConnectionsPerClient { get; init; }

    /// <summary>A connection with no request in flight for this long is closed (Kestrel <c>KeepAliveTimeout</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long SIGTERM waits for in-flight requests; below Kubernetes' default 30 s grace period.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>Upstream credential files are Secrets too: re-read on the key ring's period.</summary>
    public TimeSpan CredentialPollInterval => KeysPollInterval;

    public string? ReleaseName { get; init; }

    public string? Namespace { get; init; }

    /// <summary>One log line per relayed request (event 50); off by default.</summary>
    public bool AccessLog { get; init; }

    /// <summary>Log 1 in this many relayed requests (failed relays always).</summary>
    public long AccessLogEvery { get; init; } = 1;

    /// <summary>Where the Secret admission webhook is served (https only); null: no webhook.</summary>
    public string? AdmissionUrls { get; init; }

    /// <summary>The webhook's serving certificate and key (<c>tls.crt</c>, <c>tls.key</c> of a mounted TLS Secret), re-read on the key ring's period.</summary>
    public string AdmissionTlsDirectory { get; init; } = "/etc/proxy/webhook-tls";

    /// <summary>The user (<c>system:serviceaccount:&lt;ns&gt;:&lt;name&gt;</c>) whose Secret writes the webhook judges; required with <see cref="AdmissionUrls"/>.</summary>
    public string? AdmissionJobsManagerUser { get; init; }

    /// <summary>
    /// Open admission connections per client address; 0: no cap. The apiserver multiplexes its reviews over one or
    /// two HTTP/2 connections per apiserver instance, so a few are plenty; what it bounds is how many of the
    /// review slots one slow client can hold (finding A3).
    /// </summary>
    public int AdmissionMaxConnectionsPerClient { get; init; } = 4;

    /// <summary>
    /// From the moment a review gets a slot, its body must have arrived within this (a review of a few MiB takes
    /// milliseconds in a cluster; the apiserver's own timeout is 5 s by default): a trickling sender holds a slot no longer.
    /// </summary>
    public TimeSpan AdmissionBodyTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// HTTP/1.1 reviews whose body arrives slower than this (after 1.5 s of grace) are cut before the deadline (Kestrel: 408,
    /// connection closed); 0: no rate. A review arrives in one burst: a sender of a few bytes a second is not the apiserver.
    /// HTTP/2 streams have no per-request rate in Kestrel: the deadline bounds them.
    /// </summary>
    public long AdmissionMinBodyBytesPerSecond { get; init; } = 64 * 1024;

    /// <summary>The store ConfigMaps the jobs-manager may create in <see cref="Namespace"/>; empty: ConfigMap creates are not judged.</summary>
    public IReadOnlyList<string> AdmissionStoreConfigMaps { get; init; } = [];

    /// <summary>Who creates a Job's pods: the Job controller's own service account (controller manager with
    /// <c>--use-service-account-credentials</c>, as kubeadm and the test cluster run it) or the controller manager's shared user.</summary>
    public IReadOnlyList<string> AdmissionJobControllerUsers { get; init; } = ["system:serviceaccount:kube-system:job-controller", "system:kube-controller-manager"];

    public string Mode => Stateless ? "stateless" : "legacy";

    /// <summary>Reads and checks every setting with the shared parser; all problems are reported together.</summary>
    /// <exception cref="InvalidSettingsException">At least one setting is invalid.</exception>
    public static ProxySettings Load(IConfiguration configuration)
    {
        var env = new EnvironmentReader(configuration);
        var defaults = new ProxySettings();

        var routesFile = env.Text(EnvironmentVariables.RoutesFile);
        if (routesFile is null)
        {
            routesFile = File.Exists(DefaultRoutesFile) ? DefaultRoutesFile : null;
        }
        else if (!File.Exists(routesFile))
        {
            env.Fail(EnvironmentVariables.RoutesFile, routesFile, "does not exist");
        }

        var settings = new ProxySettings
        {
            Stateless = env.Flag(EnvironmentVariables.Stateless, defaults.Stateless),
            KeysDirectory = env.Text(EnvironmentVariables.KeysDirectory, defaults.KeysDirectory),
            RevokedDirectory = env.Text(EnvironmentVariables.RevokedDirectory, defaults.RevokedDirectory),
            LegacyTokensDirectory = env.Text(EnvironmentVariables.LegacyTokensDirectory, defaults.LegacyTokensDirectory),
            LegacyTokensPollInterval = env.Seconds(EnvironmentVariables.LegacyTokensPollSeconds, defaults.LegacyTokensPollInterval),
            LegacySyncWait = env.Seconds(EnvironmentVariables.LegacySyncWaitSeconds, defaults.LegacySyncWait, allowZero: true),
            KeysPollInterval = env.Seconds(EnvironmentVariables.KeysPollSeconds, defaults.KeysPollInterval),
            RevokedPollInterval = env.Seconds(EnvironmentVariables.RevokedPollSeconds, defaults.RevokedPollInterval),
            RevokedShards = RevokedShardCount(env),
            LegacyTokensRequired = env.Flag(EnvironmentVariables.LegacyTokensRequired, defaults.LegacyTokensRequired),
            Upstream = env.HttpUrl(EnvironmentVariables.Upstream),
            UpstreamCredentialFile = env.Text(EnvironmentVariables.UpstreamCredentialFile),
            RoutesFile = routesFile,
            AdminTokenFile = env.Text(EnvironmentVariables.AdminTokenFile, defaults.AdminTokenFile),
            AdminAcceptBearer = env.Flag(EnvironmentVariables.AdminAcceptBearer, defaults.AdminAcceptBearer),
            AdminTargetNames = TargetNames(env),
            Validation = new TokenValidationOptions
            {
                Audience = env.Text(EnvironmentVariables.Audience, TokenDefaults.Audience),
                Issuer = env.Text(EnvironmentVariables.Issuer, TokenDefaults.Issuer),
                Leeway = env.Seconds(EnvironmentVariables.LeewaySeconds, TokenDefaults.Leeway, allowZero: true),
            },
            MaxRequestBodyBytes = env.PositiveInteger(EnvironmentVariables.MaxBodyBytes, defaults.MaxRequestBodyBytes),
            UpstreamTimeout = env.Seconds(EnvironmentVariables.UpstreamTimeoutSeconds, defaults.UpstreamTimeout),
            UpstreamConnectTimeout = env.Seconds(EnvironmentVariables.UpstreamConnectTimeoutSeconds, defaults.UpstreamConnectTimeout),
            MaxRequestDuration = env.Seconds(EnvironmentVariables.MaxRequestSeconds, defaults.MaxRequestDuration, allowZero: true),
            ShutdownTimeout = env.Seconds(EnvironmentVariables.ShutdownTimeoutSeconds, defaults.ShutdownTimeout, allowZero: true),
            ManagementUrls = env.Text(EnvironmentVariables.ManagementUrls, defaults.ManagementUrls),
            MaxConnections = (int)Math.Min(int.MaxValue, env.PositiveInteger(EnvironmentVariables.MaxConnections, defaults.MaxConnections)),
            MaxConnectionsPerClient = (int)Math.Min(int.MaxValue, env.PositiveInteger(EnvironmentVariables.MaxConnectionsPerClient, defaults.MaxConnectionsPerClient, allowZero: true)),
            IdleTimeout = env.Seconds(EnvironmentVariables.IdleTimeoutSeconds, defaults.IdleTimeout),
            ReleaseName = env.Text(EnvironmentVariables.ReleaseName),
            Namespace = env.Text(EnvironmentVariables.Namespace),
            AccessLog = env.Flag(EnvironmentVariables.AccessLog, defaults.AccessLog),
            AccessLogEvery = env.PositiveInteger(EnvironmentVariables.AccessLogEvery, defaults.AccessLogEvery),
            AdmissionUrls = env.Text(EnvironmentVariables.AdmissionUrls),
            AdmissionTlsDirectory = env.Text(EnvironmentVariables.AdmissionTlsDirectory, defaults.AdmissionTlsDirectory),
            AdmissionJobsManagerUser = env.Text(EnvironmentVariables.AdmissionJobsManagerUser),
            AdmissionMaxConnectionsPerClient = (int)Math.Min(int.MaxValue, env.PositiveInteger(EnvironmentVariables.AdmissionMaxConnectionsPerClient, defaults.AdmissionMaxConnectionsPerClient, allowZero: true)),
            AdmissionBodyTimeout = env.Seconds(EnvironmentVariables.AdmissionBodyTimeoutSeconds, defaults.AdmissionBodyTimeout),
            AdmissionMinBodyBytesPerSecond = env.PositiveInteger(EnvironmentVariables.AdmissionMinBodyBytesPerSecond, defaults.AdmissionMinBodyBytesPerSecond, allowZero: true),
            AdmissionStoreConfigMaps = List(env.Text(EnvironmentVariables.AdmissionStoreConfigMaps)) ?? defaults.AdmissionStoreConfigMaps,
            AdmissionJobControllerUsers = List(env.Text(EnvironmentVariables.AdmissionJobControllerUsers)) ?? defaults.AdmissionJobControllerUsers,
        };

        if (settings.AdmissionStoreConfigMaps.Count > 0 && settings.Namespace is null)
        {
            env.Fail($"{EnvironmentVariables.AdmissionStoreConfigMaps}: needs {EnvironmentVariables.Namespace} (the release namespace the store ConfigMaps live in)");
        }

        if (settings.AdmissionUrls is not null && settings.AdmissionJobsManagerUser is null)
        {
            env.Fail($"{EnvironmentVariables.AdmissionJobsManagerUser}: required with {EnvironmentVariables.AdmissionUrls} (the jobs-manager's user, system:serviceaccount:<namespace>:<name>)");
        }

        env.ThrowIfInvalid();
        return settings;
    }

    private static string[]? List(string? value) =>
        value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } items ? items : null;

    private static int? RevokedShardCount(EnvironmentReader env)
    {
        if (env.Text(EnvironmentVariables.RevokedShards) is not { } text)
        {
            return null;
        }

        var shards = env.PositiveInteger(EnvironmentVariables.RevokedShards, 1);
        if (shards > MaxRevokedShards)
        {
            env.Fail(EnvironmentVariables.RevokedShards, text, $"is more than {MaxRevokedShards} shards");
        }

        return (int)Math.Min(shards, MaxRevokedShards);
    }

    /// <summary>Each name a <c>host:port</c> of its form (no IP literal: the address a request arrived at is always a target).</summary>
    private static List<string> TargetNames(EnvironmentReader env)
    {
        var names = new List<string>();
        foreach (var name in (env.Text(EnvironmentVariables.AdminTargetNames) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = name.LastIndexOf(':');
            if (!AdminSignatureVerifier.IsTargetForm(name) || colon <= 0
                || !ushort.TryParse(name.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0
                || IPAddress.TryParse(name.AsSpan(0, colon).Trim("[]"), out _))
            {
                env.Fail(EnvironmentVariables.AdminTargetNames, name, "is not a DNS host:port (e.g. rp-requests-proxy.ml.svc:8888)");
                continue;
            }

            names.Add(name);
        }

        return names;
    }
}
