using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.Settings;

/// <summary>
/// The process half of the contract both services share (docs/architecture.md): where they
/// listen unless told, and JSON console logs with UTC timestamps, framework logs at Warning.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>Listens on <paramref name="defaultUrls"/> unless <c>ASPNETCORE_URLS</c>, <c>--urls</c> or <c>*_ports</c> say otherwise; logs JSON lines.</summary>
    public static void Apply(WebApplicationBuilder builder, string defaultUrls)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrEmpty(builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey))
            && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(defaultUrls);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });

        // Per-request framework logs would drown the services' own and sit on the hot path; Logging__LogLevel__* still overrides.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    }
}
