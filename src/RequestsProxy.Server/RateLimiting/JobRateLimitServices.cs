using System.Diagnostics.Metrics;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.RateLimiting;

internal static class JobRateLimitServices
{
    /// <summary>Registers the per-job limiter; the defaults are read (and refused with every error) now, at start.</summary>
    /// <exception cref="Settings.InvalidSettingsException">A default limit is invalid.</exception>
    public static IServiceCollection AddJobRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var defaults = JobLimitRules.LoadDefaults(configuration);
        return services.AddSingleton(sp => new JobRateLimiter(defaults, sp.GetRequiredService<ProxyMetrics>(),
            sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<ILogger<JobRateLimiter>>()));
    }
}
