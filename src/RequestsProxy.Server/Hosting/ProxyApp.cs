using Microsoft.AspNetCore.Routing.Constraints;
using OpenTelemetry.Metrics;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Forwarding;
using RequestsProxy.Server.Health;
using RequestsProxy.Server.Legacy;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Settings;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace RequestsProxy.Server.Hosting;

/// <summary>Composes the proxy. Tests build it in-process with their own configuration on top.</summary>
internal static class ProxyApp
{
    /// <param name="configure">Applied before settings are read (tests add configuration and URLs here).</param>
    /// <exception cref="InvalidSettingsException">The settings or routes cannot run a proxy.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Slim: no data protection key ring written to disk (a read-only root filesystem), less start-up work.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            // `dotnet /app/requests-proxy.dll` from any folder still finds its own files.
            ContentRootPath = AppContext.BaseDirectory,
        });
        configure?.Invoke(builder);

        var settings = ProxySettings.Load(builder.Configuration);

        if (string.IsNullOrEmpty(builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey))
            && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(ProxySettings.DefaultUrls);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        // Per-request framework logs would sit on the hot path; ours log refusals only.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = settings.ShutdownTimeout);

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<TokenSources>();
        services.AddHostedService(sp => sp.GetRequiredService<TokenSources>());
        services.AddSingleton<LegacyTokenRegistry>();
        services.AddSingleton<AdminToken>();
        if (settings.Stateless)
        {
            services.AddSingleton<IRequestAuthenticator, JwtRequestAuthenticator>();
        }
        else
        {
            services.AddSingleton<IRequestAuthenticator, LegacyRequestAuthenticator>();
        }

        services.AddSingleton<UpstreamCredentials>();
        services.AddSingleton<RoutePolicies>();
        services.AddSingleton<ProxyMetrics>();

        var proxy = services.AddReverseProxy()
            .AddTransforms<ProxyTransformProvider>()
            .AddConfigFilter<UpstreamTimeoutFilter>();
        var (routeCount, routeSource) = ProxyRoutes.Configure(proxy, builder.Configuration, settings);
        services.AddSingleton<IForwarderHttpClientFactory, UpstreamClientFactory>();

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ProxyMetrics.MeterName)
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));

        // Route patterns from a routes file may use regex constraints, which the slim builder leaves out.
        services.Configure<RouteOptions>(routing => routing.SetParameterPolicy<RegexInlineRouteConstraint>("regex"));

        var app = builder.Build();

        // Observable instruments must exist before the first scrape.
        app.Services.GetRequiredService<ProxyMetrics>();

        HealthEndpoints.Map(app);
        app.MapPrometheusScrapingEndpoint("/metrics");
        AdminEndpoints.Map(app, settings);
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseMiddleware<AccessLogMiddleware>();
            pipeline.UseMiddleware<ProxyAuthenticationMiddleware>();
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });

        // Routes are loaded by now: read their credential files before the first request needs them.
        var policies = app.Services.GetRequiredService<RoutePolicies>();
        foreach (var route in app.Services.GetRequiredService<IProxyStateLookup>().GetRoutes())
        {
            policies.Get(route.Config);
        }

        Log.Starting(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RequestsProxy.Server"),
            settings.Mode, routeCount, routeSource, settings.ReleaseName, settings.Namespace);
        return app;
    }
}
