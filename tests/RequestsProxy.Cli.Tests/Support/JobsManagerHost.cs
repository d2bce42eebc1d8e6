using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RequestsProxy.JobsManager;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Hosting;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Tests.Support;

/// <summary>
/// The real jobs-manager app, in-process on Kestrel at 127.0.0.1 with a random port, Local runtime,
/// over a key ring folder the test manages with rpctl. Its own temp folders, so tests run in parallel.
/// </summary>
internal sealed class JobsManagerHost : IAsyncDisposable
{
    public const string AdminToken = "admin-token-for-rpctl-tests-0123456789";

    /// <summary>The jobs-manager's token lifetime (not the 90-day default, so tests see rpctl use it).</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    private readonly TempFolder _folder;
    private readonly LoopbackApp _app;

    private JobsManagerHost(TempFolder folder, LoopbackApp app, string adminTokenFile, FakeLogCollector auditLog)
    {
        AuditLog = auditLog;
        _folder = folder;
        _app = app;
        AdminTokenFile = adminTokenFile;
    }

    public string Url => _app.Url.AbsoluteUri.TrimEnd('/');

    public string AdminTokenFile { get; }

    /// <summary>The jobs-manager's audit trail (its only log kept: in-process rpctl runs capture the console).</summary>
    public FakeLogCollector AuditLog { get; }

    /// <summary>The flags every rpctl call to this jobs-manager needs.</summary>
    public string[] Flags => ["--jobs-manager", Url, "--admin-token-file", AdminTokenFile];

    /// <param name="configure">Changes to the options (e.g. the Kubernetes runtime); <paramref name="configureBuilder"/> may replace services (an IKubernetes).</param>
    public static async Task<JobsManagerHost> StartAsync(string keysDirectory, Action<JobsManagerOptions>? configure = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var folder = new TempFolder("rp-cli-jm");
        var adminFile = folder.Combine("admin", "token");
        Directory.CreateDirectory(Path.GetDirectoryName(adminFile)!);
        File.WriteAllText(adminFile, AdminToken + "\n");
        var options = new JobsManagerOptions
        {
            Runtime = JobRuntimeKind.Local,
            KeysDirectory = keysDirectory,
            AdminTokenFile = adminFile,
            StateDirectory = folder.Combine("state"),
            RevokedDirectory = folder.Combine("revoked"),
            TokenLifetime = TokenLifetime,
            RefreshCheckInterval = TimeSpan.FromMinutes(1),
        };
        configure?.Invoke(options);
        // No console logging: in-process rpctl runs capture the console.
        var audit = new FakeLogCollector();
        var app = await LoopbackApp.StartAsync(JobsManagerApp.Build(["--urls", LoopbackApp.AnyPort], options, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(new FakeLoggerProvider(audit));
            builder.Logging.AddFilter<FakeLoggerProvider>((category, _) => category == "RequestsProxy.JobsManager.Audit");
            configureBuilder?.Invoke(builder);
        }));
        return new JobsManagerHost(folder, app, adminFile, audit);
    }

    /// <summary>Re-reads the key ring now instead of waiting for the poll.</summary>
    public void ReloadKeys() => _app.Services.GetRequiredService<KeyRingSource>().Reload();

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _folder.Dispose();
    }
}
