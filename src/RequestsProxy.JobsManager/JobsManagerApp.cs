using k8s;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Jobs.Adoption;
using RequestsProxy.JobsManager.Kubernetes;
using RequestsProxy.JobsManager.Local;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Legacy;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager;

/// <summary>
/// Builds the jobs-manager web application. Used by Program (the <c>jobs-manager</c> process) and
/// by tests that run it in-process: pass options to skip the environment, and <c>configure</c> to
/// replace services (a <see cref="TimeProvider"/>, an <see cref="IKubernetes"/>).
/// </summary>
internal static partial class JobsManagerApp
{
    public static WebApplication Build(string[] args, JobsManagerOptions? options = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        options ??= JobsManagerOptions.FromConfiguration(builder.Configuration);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidSettingsException(errors);
        }

        ServiceDefaults.UseDefaultUrls(builder, JobsManagerOptions.DefaultUrls);
        ServiceDefaults.UseJsonConsoleLogs(builder);

        AddServices(builder.Services, options);
        configure?.Invoke(builder);

        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    private static void AddServices(IServiceCollection services, JobsManagerOptions options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<JobsManagerMetrics>();
        services.AddSingleton<AdminTokenProvider>();
        services.AddSingleton<RevocationLedger>();
        services.AddSingleton<JobLedger>();
        services.AddSingleton<JobAudit>();
        services.AddSingleton<JobManager>();
        services.AddSingleton<JobMaintenanceService>();
        if (options.Adopt && options.Runtime == JobRuntimeKind.Kubernetes)
        {
            // Adopt mode. The watcher starts before the maintenance loop: the first restore waits for its lists.
            services.AddSingleton(new AdoptionCache(options.AdoptionNamespaces));
            services.AddSingleton<IAdoptionDelivery, KubernetesAdoptionDelivery>();
            services.AddSingleton<AdoptionWatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<AdoptionWatcher>());
        }

        services.AddHostedService(sp => sp.GetRequiredService<JobMaintenanceService>());
        // The admin client talks to pod addresses nothing authenticates (docs/operations.md, "What a -legacy-pods address
        // receives"): an answer is judged by its status alone, at most a few KiB of it are ever read (an impostor's 400 MiB
        // answer would otherwise be buffered whole), and a redirect is a failure, never followed with the signed request.
        services.AddHttpClient(nameof(LegacyJobCredentials), c =>
            {
                c.Timeout = TimeSpan.FromSeconds(10);
                c.MaxResponseContentBufferSize = LegacyJobCredentials.MaxAnswerBytes;
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                MaxResponseHeadersLength = 16, // KiB
                MaxResponseDrainSize = LegacyJobCredentials.MaxAnswerBytes,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(JobsManagerMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            .AddPrometheusExporter());

        // Both kinds of credential in either mode (DESIGN §12): the key ring is mounted in both, and
        // a legacy jobs-manager keeps refreshing the JWTs of jobs started under stateless.
        services.AddSingleton(sp =>
        {
            var source = new KeyRingSource(options.KeysDirectory, options.KeysPollInterval, sp.GetRequiredService<TimeProvider>());
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KeyRingSource));
            source.ReloadFailed += error => Log.KeyRingRefused(logger, error);
            source.Changed += ring => Log.KeyRingLoaded(logger, ring.ActiveKid, string.Join(",", ring.Kids));
            source.Start();
            sp.GetRequiredService<JobsManagerMetrics>().ObserveKeyRing(source);
            return source;
        });
        services.AddSingleton<IKeyRingSource>(sp => sp.GetRequiredService<KeyRingSource>());
        services.AddSingleton(sp => new TokenIssuer(sp.GetRequiredService<IKeyRingSource>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<StatelessJobCredentials>();
        services.TryAddSingleton<ILegacyProxyEndpoints, DnsLegacyProxyEndpoints>();
        services.AddSingleton(sp => new LegacyJobCredentials(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(LegacyJobCredentials)),
            sp.GetRequiredService<AdminTokenProvider>(), sp.GetRequiredService<ILegacyProxyEndpoints>(), sp.GetRequiredService<IDocumentStore<LegacyTokenList>>(),
            options, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LegacyJobCredentials>>(), sp.GetRequiredService<JobsManagerMetrics>(),
            sp.GetRequiredService<IDocumentStore<LegacyIssuer>>()));
        services.AddSingleton<IJobCredentials, JobCredentials>();
        services.AddHostedService<LegacySyncService>();

        if (options.Runtime == JobRuntimeKind.Kubernetes)
        {
            // One client for the process; in a pod the default config is the service account's in-cluster config.
            services.TryAddSingleton<IKubernetes>(_ => new k8s.Kubernetes(KubernetesClientConfiguration.BuildDefaultConfig()));
            services.AddSingleton<ConfigMapUpdater>();
            services.AddSingleton<IStoreProvisioner, ConfigMapProvisioner>();
            services.AddSingleton<IJobRuntime, KubernetesJobRuntime>();
            services.AddSingleton<IDocumentStore<RevocationList>>(sp => KubernetesStores.Revocation(sp.GetRequiredService<ConfigMapUpdater>(), options, sp.GetRequiredService<JobsManagerMetrics>()));
            services.AddSingleton<IDocumentStore<JobLedgerDocument>>(sp => KubernetesStores.JobLedger(sp.GetRequiredService<ConfigMapUpdater>(), options, sp.GetRequiredService<JobsManagerMetrics>()));
            services.AddSingleton<IDocumentStore<LegacyTokenList>>(sp => KubernetesStores.LegacyTokens(sp.GetRequiredService<ConfigMapUpdater>(), options));
            services.AddSingleton<IDocumentStore<LegacyIssuer>>(sp => KubernetesStores.LegacyIssuer(sp.GetRequiredService<ConfigMapUpdater>(), options));
        }
        else
        {
            services.AddSingleton<LocalJobRuntime>();
            services.AddSingleton<IJobRuntime>(sp => sp.GetRequiredService<LocalJobRuntime>());
            services.AddSingleton<IDocumentStore<RevocationList>>(LocalStores.Revocation(options));
            services.AddSingleton<IDocumentStore<JobLedgerDocument>>(LocalStores.JobLedger(options));
            services.AddSingleton<IDocumentStore<LegacyTokenList>>(LocalStores.LegacyTokens(options));
            services.AddSingleton<IDocumentStore<LegacyIssuer>>(LocalStores.LegacyIssuer(options));
        }
    }

    private static void MapEndpoints(WebApplication app)
    {
        // Load the key ring now, not on the first request, so /readyz tells the truth from the start.
        app.Services.GetService<KeyRingSource>();

        app.MapGet("/healthz", () => ApiResults.Json(new HealthResponse("ok", []), JobsJsonContext.Default.HealthResponse));
        app.MapGet("/readyz", (JobManager jobs, AdminTokenProvider admin, KeyRingSource keys, JobsManagerOptions options, IServiceProvider services) =>
        {
            var problems = new List<string>();
            if (services.GetService<IStoreProvisioner>()?.Problem is { } stores)
            {
                problems.Add(stores);
            }

            // Legacy mode issues opaque tokens: a missing ring only stops the refresh of stateless-born JWTs.
            if (options.Stateless && !keys.IsReady)
            {
                problems.Add($"no valid key ring in '{keys.Directory}': {keys.LastFailure}");
            }

            if (!admin.IsConfigured)
            {
                problems.Add($"the admin token file '{admin.Path}' is missing or empty");
            }

            if (jobs.RestoreProblem is { } restore)
            {
                problems.Add(restore);
            }

            if (services.GetRequiredService<LegacyJobCredentials>().IssuerProblem is { } issuer)
            {
                problems.Add(issuer);
            }

            if (!jobs.IsReady && problems.Count == 0)
            {
                problems.Add("tokens cannot be issued yet");
            }

            return ApiResults.Json(new HealthResponse(problems.Count == 0 ? "ready" : "not_ready", problems), JobsJsonContext.Default.HealthResponse,
                problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapJobsApi();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Key ring loaded: active kid {ActiveKid}, kids {Kids}")]
        public static partial void KeyRingLoaded(ILogger logger, string activeKid, string kids);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Key ring update refused, keeping the last good ring: {Error}")]
        public static partial void KeyRingRefused(ILogger logger, string error);
    }
}
