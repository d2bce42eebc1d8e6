using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Routing.Constraints;
using OpenTelemetry.Metrics;
using RequestsProxy.Server.Admission;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Forwarding;
using RequestsProxy.Server.Health;
using RequestsProxy.Server.Legacy;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Server.RateLimiting;
using RequestsProxy.Settings;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace RequestsProxy.Server.Hosting;

/// <summary>Composes the proxy. Tests build it in-process with their own configuration on top.</summary>
internal static class ProxyApp
{
    /// <summary>The logger category of the admission endpoint's lines (events 62 and 63).</summary>
    internal const string AdmissionLogCategory = "RequestsProxy.Server.Admission";

    internal const string KestrelConnectionsLogCategory = "Microsoft.AspNetCore.Server.Kestrel.Connections";
    internal const string KestrelMeterName = "Microsoft.AspNetCore.Server.Kestrel";
    internal const string KestrelRejectedConnections = "kestrel.rejected_connections";

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

        var listeners = PodFacingListeners(builder, settings);
        ServiceDefaults.UseJsonConsoleLogs(builder);

        // Per-request YARP logs would sit on the hot path; ours log refusals only.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);

        // Kestrel writes a Warning for every connection over MaxConcurrentConnections: a flood of connections would be a
        // flood of lines outside the refusal budget (A12). kestrel_rejected_connections_total on /metrics counts them instead.
        builder.Logging.AddFilter(KestrelConnectionsLogCategory, LogLevel.Error);

        // The socket transport has buffers of its own under Kestrel's (1 MiB unread input by default): the same bound (A2).
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.MaxReadBufferSize = ProxySettings.ConnectionBufferBytes;
            sockets.MaxWriteBufferSize = ProxySettings.ConnectionBufferBytes;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Relayed requests lift this and count payload bytes instead (RelayMiddleware); it stays for the proxy's own endpoints.
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
            // Kestrel applies the cap per listening address: a full pod-facing port leaves the management port reachable.
            kestrel.Limits.MaxConcurrentConnections = settings.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = settings.MaxConnections;
            kestrel.Limits.KeepAliveTimeout = settings.IdleTimeout;
            // What one connection can make the pod hold (finding A2): Kestrel buffers up to MaxRequestBufferSize of
            // unread input (default 1 MiB) and MaxResponseBufferSize of unsent output (64 KiB) per connection, so 300
            // pipelining clients that never read ran a 256Mi pod out of memory. A token is at most 4 KiB: a request head
            // fits in 16 KiB, and bodies stream (backpressure, not buffers).
            kestrel.Limits.MaxRequestHeadersTotalSize = ProxySettings.ConnectionBufferBytes;
            kestrel.Limits.MaxRequestBufferSize = ProxySettings.ConnectionBufferBytes;
            kestrel.Limits.MaxResponseBufferSize = ProxySettings.ConnectionBufferBytes;
            var certificate = settings.AdmissionUrls is null ? null : kestrel.ApplicationServices.GetRequiredService<WebhookCertificate>();
            listeners.Configure(kestrel, kestrel.ApplicationServices.GetService<ClientConnectionLimit>(),
                certificate is null ? null : () => certificate.Current, kestrel.ApplicationServices.GetService<AdmissionConnectionLimit>()?.Limit);
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = settings.ShutdownTimeout);

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(listeners);
        if (settings.MaxConnectionsPerClient > 0)
        {
            services.AddSingleton(new ClientConnectionLimit(settings.MaxConnectionsPerClient));
        }

        services.AddSingleton<SubjectBindings>();
        services.AddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RefusalLogBudget(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<TokenSources>();
        services.AddHostedService(sp => sp.GetRequiredService<TokenSources>());
        services.AddSingleton<LegacyTokenRegistry>();
        services.AddSingleton<AdminToken>();
        services.AddSingleton<AdminGate>();
        // Both modes accept JWTs and listed legacy tokens: the flip between them costs no 401 (DESIGN §12).
        services.AddSingleton<IRequestAuthenticator, RequestAuthenticator>();

        services.AddSingleton<UpstreamCredentials>();
        services.AddSingleton<RelayLifetimes>();
        services.AddSingleton<RoutePolicies>();
        services.AddSingleton<ProxyMetrics>();
        services.AddJobRateLimits(builder.Configuration);
        if (settings.AdmissionUrls is not null)
        {
            services.AddSingleton<WebhookCertificate>();
            services.AddHostedService(sp => sp.GetRequiredService<WebhookCertificate>());
            services.AddSingleton<IAdmissionPolicy>(new SecretAdmissionPolicy(settings.AdmissionJobsManagerUser!));
            services.AddSingleton<IAdmissionPolicy>(new JobAdmissionPolicy(settings.AdmissionJobsManagerUser!));
            services.AddSingleton<IAdmissionPolicy>(new PodAdmissionPolicy(settings.AdmissionJobControllerUsers.ToHashSet(StringComparer.Ordinal)));
            if (settings.AdmissionStoreConfigMaps.Count > 0)
            {
                services.AddSingleton<IAdmissionPolicy>(new ConfigMapAdmissionPolicy(settings.AdmissionJobsManagerUser!, settings.Namespace!, settings.AdmissionStoreConfigMaps));
            }

            if (settings.AdmissionMaxConnectionsPerClient > 0)
            {
                services.AddSingleton(new AdmissionConnectionLimit(new ClientConnectionLimit(settings.AdmissionMaxConnectionsPerClient)));
            }
        }

        var proxy = services.AddReverseProxy()
            .AddTransforms<ProxyTransformProvider>()
            .AddTransforms<JobLimitRouteValidator>()
            .AddConfigFilter<UpstreamTimeoutFilter>();
        var (routeCount, routeSource) = ProxyRoutes.Configure(proxy, builder.Configuration, settings);
        services.AddSingleton<IForwarderHttpClientFactory, UpstreamClientFactory>();

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ProxyMetrics.MeterName)
            // Of Kestrel's instruments, the two that tell a connection flood: rejected and open connections.
            .AddMeter(KestrelMeterName)
            .AddView(instrument => instrument.Meter.Name == KestrelMeterName && instrument.Name is not (KestrelRejectedConnections or "kestrel.active_connections")
                ? MetricStreamConfiguration.Drop
                : null)
            .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));

        // Route patterns from a routes file may use regex constraints, which the slim builder leaves out.
        services.Configure<RouteOptions>(routing => routing.SetParameterPolicy<RegexInlineRouteConstraint>("regex"));

        var app = builder.Build();

        // Observable instruments must exist before the first scrape.
        app.Services.GetRequiredService<ProxyMetrics>();

        // The admission endpoint logs through this category's logger (one per factory): its refusal lines share the budget (A12).
        app.Services.GetRequiredService<RefusalLogBudget>().Attach(
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(AdmissionLogCategory));

        app.UseRouting();
        app.UseMiddleware<PortGate>();
        HealthEndpoints.Map(app);
        app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(ManagementEndpoint.Instance);
        AdminEndpoints.Map(app, settings);
        if (settings.AdmissionUrls is not null)
        {
            AdmissionEndpoints.Map(app);
        }
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseMiddleware<AccessLogMiddleware>();
            pipeline.UseMiddleware<ProxyAuthenticationMiddleware>();
            // Steps that need the verified caller (per-job limits) go here: after authentication, before the relay.
            pipeline.UseMiddleware<JobLimitMiddleware>();
            pipeline.UseMiddleware<RelayMiddleware>();
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

        _ = app.Services.GetRequiredService<SubjectBindings>().Patterns;

        Log.Starting(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RequestsProxy.Server"),
            settings.Mode, routeCount, routeSource, settings.ReleaseName, settings.Namespace);
        return app;
    }

    /// <summary>
    /// The pod-facing addresses as ASP.NET Core would pick them (<c>--urls</c>, <c>ASPNETCORE_URLS</c>,
    /// <c>ASPNETCORE_HTTP_PORTS</c>, else the default), handed to Kestrel as explicit endpoints beside
    /// the management ones; the host's own URL settings are cleared so Kestrel does not warn about them.
    /// </summary>
    private static ProxyListeners PodFacingListeners(WebApplicationBuilder builder, ProxySettings settings)
    {
        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey);
        var source = "ASPNETCORE_URLS";
        if (string.IsNullOrWhiteSpace(urls) && builder.WebHost.GetSetting("http_ports") is { Length: > 0 } ports)
        {
            urls = string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"));
            source = "ASPNETCORE_HTTP_PORTS";
        }

        if (!string.IsNullOrWhiteSpace(builder.WebHost.GetSetting("https_ports")))
        {
            throw new InvalidSettingsException(["ASPNETCORE_HTTPS_PORTS: only http addresses are served (TLS ends in front of the proxy)"]);
        }

        var listeners = ProxyListeners.Parse(string.IsNullOrWhiteSpace(urls) ? ProxySettings.DefaultUrls : urls, source, settings.ManagementUrls, settings.AdmissionUrls);
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        builder.WebHost.UseSetting("http_ports", "");
        return listeners;
    }
}
