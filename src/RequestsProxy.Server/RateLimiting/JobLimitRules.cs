using System.Globalization;
using RequestsProxy.Server.Forwarding;
using RequestsProxy.Settings;
using Yarp.ReverseProxy.Configuration;

namespace RequestsProxy.Server.RateLimiting;

/// <summary>
/// Reads the limits: the defaults from the environment (every problem reported at start), a
/// route's overrides from its metadata (checked when YARP validates the routes).
/// </summary>
internal static class JobLimitRules
{
    /// <exception cref="InvalidSettingsException">A default is not a valid number (every one is listed).</exception>
    public static JobLimits LoadDefaults(IConfiguration configuration)
    {
        var env = new EnvironmentReader(configuration);
        var errors = new List<string>();
        var limits = Read(env.Text, RateLimitNames.RequestsPerSecondVariable, RateLimitNames.BurstVariable,
            RateLimitNames.ConcurrentVariable, JobLimits.None, errors);
        errors.ForEach(env.Fail);
        env.ThrowIfInvalid();
        return limits;
    }

    /// <summary>The route's limits: its metadata where set, the defaults elsewhere.</summary>
    public static JobLimits ForRoute(RouteConfig route, JobLimits defaults, List<string>? errors = null) =>
        Read(key => RouteRules.Get(route, key), RateLimitNames.RequestsPerSecondMetadata, RateLimitNames.BurstMetadata,
            RateLimitNames.ConcurrentMetadata, defaults, errors ?? [], $"route '{route.RouteId}': Metadata.");

    private static JobLimits Read(Func<string, string?> get, string rateKey, string burstKey, string concurrentKey,
        JobLimits defaults, List<string> errors, string prefix = "")
    {
        var rate = defaults.RequestsPerSecond;
        var rateText = get(rateKey)?.Trim();
        if (!string.IsNullOrEmpty(rateText))
        {
            if (!double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || !double.IsFinite(rate) || rate < 0 || rate > 1_000_000)
            {
                errors.Add($"{prefix}{rateKey}: '{rateText}' is not a number of requests per second from 0 (off) to 1000000");
                rate = defaults.RequestsPerSecond;
            }
        }

        var burstText = get(burstKey)?.Trim();
        // A rate set here without a burst gets its own one-second burst, not the default's.
        var burst = string.IsNullOrEmpty(rateText) ? defaults.Burst : JobLimits.DefaultBurst(rate);
        if (!string.IsNullOrEmpty(burstText))
        {
            if (!int.TryParse(burstText, NumberStyles.None, CultureInfo.InvariantCulture, out burst) || burst < 1)
            {
                errors.Add($"{prefix}{burstKey}: '{burstText}' is not a whole number of requests ≥ 1");
                burst = JobLimits.DefaultBurst(rate);
            }
        }

        var concurrent = defaults.Concurrent;
        var concurrentText = get(concurrentKey)?.Trim();
        if (!string.IsNullOrEmpty(concurrentText)
            && (!int.TryParse(concurrentText, NumberStyles.None, CultureInfo.InvariantCulture, out concurrent) || concurrent < 0))
        {
            errors.Add($"{prefix}{concurrentKey}: '{concurrentText}' is not a whole number of requests ≥ 0 (0: off)");
            concurrent = defaults.Concurrent;
        }

        return rate > 0 ? new JobLimits(rate, burst, concurrent) : new JobLimits(0, 0, concurrent);
    }
}
