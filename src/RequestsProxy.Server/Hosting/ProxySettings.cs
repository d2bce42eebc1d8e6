using System.Globalization;
using RequestsProxy.Tokens.Jwt;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// Every setting of the proxy, read once at start from the environment contract of
/// docs/architecture.md (configuration keys are the environment variable names).
/// </summary>
internal sealed record ProxySettings
{
    public const string DefaultUrls = "http://0.0.0.0:8888";
    public const string DefaultRoutesFile = "/etc/proxy/routes/routes.json";
    public const long DefaultMaxBodyBytes = 10 * 1024 * 1024;
    public const string DefaultManagementUrls = "http://0.0.0.0:9090";
    public const int DefaultMaxConnections = 10_000;

    public bool Stateless { get; init; } = true;

    public string KeysDirectory { get; init; } = "/etc/proxy/keys";

    public string RevokedDirectory { get; init; } = "/etc/proxy/revoked";

    public TimeSpan KeysPollInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RevokedPollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The catch-all route's upstream, used only when no route configuration exists.</summary>
    public Uri? Upstream { get; init; }

    public string? UpstreamCredentialFile { get; init; }

    /// <summary>The YARP routes file in force, or null when there is none.</summary>
    public string? RoutesFile { get; init; }

    public string AdminTokenFile { get; init; } = "/etc/proxy/admin/token";

    public TokenValidationOptions Validation { get; init; } = new();

    public long MaxRequestBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>Idle time allowed while waiting on upstream (YARP ActivityTimeout) when a cluster sets none.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(100);

    public TimeSpan UpstreamConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> are served; the pod-facing URLs serve routes only.</summary>
    public string ManagementUrls { get; init; } = DefaultManagementUrls;

    /// <summary>Open connections allowed per pod-facing listening address (Kestrel <c>MaxConcurrentConnections</c>); more are closed at once.</summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>A connection with no request in flight for this long is closed (Kestrel <c>KeepAliveTimeout</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long SIGTERM waits for in-flight requests; below Kubernetes' default 30 s grace period.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>Upstream credential files are Secrets too: re-read on the key ring's period.</summary>
    public TimeSpan CredentialPollInterval => KeysPollInterval;

    public string? ReleaseName { get; init; }

    public string? Namespace { get; init; }

    public string Mode => Stateless ? "stateless" : "legacy";

    /// <summary>Reads and checks every setting; all problems are reported together.</summary>
    public static ProxySettings Load(IConfiguration configuration)
    {
        var errors = new List<string>();
        var defaults = new ProxySettings();

        var routesFile = configuration[EnvironmentNames.RoutesFile];
        if (string.IsNullOrWhiteSpace(routesFile))
        {
            routesFile = File.Exists(DefaultRoutesFile) ? DefaultRoutesFile : null;
        }
        else if (!File.Exists(routesFile))
        {
            errors.Add($"{EnvironmentNames.RoutesFile}: '{routesFile}' does not exist");
        }

        Uri? upstream = null;
        var upstreamText = configuration[EnvironmentNames.Upstream];
        if (!string.IsNullOrWhiteSpace(upstreamText)
            && (!Uri.TryCreate(upstreamText.Trim(), UriKind.Absolute, out upstream) || upstream.Scheme is not ("http" or "https")))
        {
            errors.Add($"{EnvironmentNames.Upstream}: '{upstreamText}' is not an absolute http(s) URL");
            upstream = null;
        }

        var settings = new ProxySettings
        {
            Stateless = ReadBool(configuration, EnvironmentNames.Stateless, defaults.Stateless, errors),
            KeysDirectory = ReadString(configuration, EnvironmentNames.KeysDirectory) ?? defaults.KeysDirectory,
            RevokedDirectory = ReadString(configuration, EnvironmentNames.RevokedDirectory) ?? defaults.RevokedDirectory,
            KeysPollInterval = ReadSeconds(configuration, EnvironmentNames.KeysPollSeconds, defaults.KeysPollInterval, errors),
            RevokedPollInterval = ReadSeconds(configuration, EnvironmentNames.RevokedPollSeconds, defaults.RevokedPollInterval, errors),
            Upstream = upstream,
            UpstreamCredentialFile = ReadString(configuration, EnvironmentNames.UpstreamCredentialFile),
            RoutesFile = routesFile,
            AdminTokenFile = ReadString(configuration, EnvironmentNames.AdminTokenFile) ?? defaults.AdminTokenFile,
            Validation = new TokenValidationOptions
            {
                Audience = ReadString(configuration, EnvironmentNames.Audience) ?? TokenDefaults.Audience,
                Issuer = ReadString(configuration, EnvironmentNames.Issuer) ?? TokenDefaults.Issuer,
                Leeway = ReadSeconds(configuration, EnvironmentNames.LeewaySeconds, TokenDefaults.Leeway, errors, allowZero: true),
            },
            MaxRequestBodyBytes = ReadLong(configuration, EnvironmentNames.MaxBodyBytes, defaults.MaxRequestBodyBytes, errors),
            UpstreamTimeout = ReadSeconds(configuration, EnvironmentNames.UpstreamTimeoutSeconds, defaults.UpstreamTimeout, errors),
            UpstreamConnectTimeout = ReadSeconds(configuration, EnvironmentNames.UpstreamConnectTimeoutSeconds, defaults.UpstreamConnectTimeout, errors),
            ShutdownTimeout = ReadSeconds(configuration, EnvironmentNames.ShutdownTimeoutSeconds, defaults.ShutdownTimeout, errors, allowZero: true),
            ManagementUrls = ReadString(configuration, EnvironmentNames.ManagementUrls) ?? defaults.ManagementUrls,
            MaxConnections = (int)Math.Min(int.MaxValue, ReadLong(configuration, EnvironmentNames.MaxConnections, defaults.MaxConnections, errors)),
            IdleTimeout = ReadSeconds(configuration, EnvironmentNames.IdleTimeoutSeconds, defaults.IdleTimeout, errors),
            ReleaseName = ReadString(configuration, EnvironmentNames.ReleaseName),
            Namespace = ReadString(configuration, EnvironmentNames.Namespace),
        };

        if (errors.Count > 0)
        {
            throw new ProxyConfigurationException(errors);
        }

        return settings;
    }

    private static string? ReadString(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static bool ReadBool(IConfiguration configuration, string key, bool fallback, List<string> errors)
    {
        var value = ReadString(configuration, key);
        switch (value?.ToUpperInvariant())
        {
            case null:
                return fallback;
            case "TRUE" or "1" or "YES":
                return true;
            case "FALSE" or "0" or "NO":
                return false;
            default:
                errors.Add($"{key}: '{value}' is not true or false");
                return fallback;
        }
    }

    private static TimeSpan ReadSeconds(IConfiguration configuration, string key, TimeSpan fallback, List<string> errors, bool allowZero = false)
    {
        var value = ReadString(configuration, key);
        if (value is null)
        {
            return fallback;
        }

        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds) || seconds < 0 || (seconds == 0 && !allowZero) || seconds > TimeSpan.FromDays(365).TotalSeconds)
        {
            errors.Add($"{key}: '{value}' is not a number of seconds{(allowZero ? " ≥ 0" : " > 0")}");
            return fallback;
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static long ReadLong(IConfiguration configuration, string key, long fallback, List<string> errors)
    {
        var value = ReadString(configuration, key);
        if (value is null)
        {
            return fallback;
        }

        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            errors.Add($"{key}: '{value}' is not a positive whole number");
            return fallback;
        }

        return number;
    }
}
