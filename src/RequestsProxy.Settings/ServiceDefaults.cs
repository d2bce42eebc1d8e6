using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.Settings;

/// <summary>The process half of the contract both services share (docs/architecture.md): where they listen unless told, and how they log.</summary>
public static class ServiceDefaults
{
    /// <summary>Listens on <paramref name="defaultUrls"/> unless <c>ASPNETCORE_URLS</c>, <c>--urls</c> or <c>*_ports</c> say otherwise.</summary>
    public static void UseDefaultUrls(WebApplicationBuilder builder, string defaultUrls)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrEmpty(builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey))
            && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(defaultUrls);
        }
    }

    /// <summary>JSON console lines with UTC timestamps; framework logs at Warning (Logging__LogLevel__* still overrides).</summary>
    public static void UseJsonConsoleLogs(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        });

        // Per-request framework logs would drown the services' own, and sit on the hot path.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    }
}
