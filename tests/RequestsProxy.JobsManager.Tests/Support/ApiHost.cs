using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Hosting;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>The whole jobs-manager app on real Kestrel at 127.0.0.1, port 0, Local runtime, its own folders.</summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public const string AdminToken = "admin-token-for-tests-0123456789";

    private readonly Action<WebApplicationBuilder>? _configureBuilder;
    private bool _stopped;

    private readonly LoopbackApp _host;

    private ApiHost(TempFolder folder, KeyRingVolume keys, JobsManagerOptions options, LoopbackApp host, HttpClient client, Action<WebApplicationBuilder>? configureBuilder)
    {
        _configureBuilder = configureBuilder;
        Folder = folder;
        Keys = keys;
        Options = options;
        _host = host;
        Client = client;
    }

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public JobsManagerOptions Options { get; }

    public WebApplication App => _host.App;

    /// <summary>A client that sends the admin token.</summary>
    public HttpClient Client { get; }

    public Uri BaseAddress => Client.BaseAddress!;

    public static async Task<ApiHost> StartAsync(bool withKeys = true, Action<JobsManagerOptions>? configure = null, Action<WebApplicationBuilder>? configureBuilder = null)
    {
        var folder = new TempFolder("rp-jm-api");
        var keys = new KeyRingVolume(folder.Combine("keys"));
        var adminFile = folder.Combine("admin", "token");
        Directory.CreateDirectory(Path.GetDirectoryName(adminFile)!);
        File.WriteAllText(adminFile, AdminToken + "\n");
        var options = new JobsManagerOptions
        {
            Runtime = JobRuntimeKind.Local,
            KeysDirectory = withKeys ? keys.Path : folder.Combine("no-keys"),
            AdminTokenFile = adminFile,
            StateDirectory = folder.Combine("state"),
            RevokedDirectory = folder.Combine("revoked"),
            TokenLifetime = TimeSpan.FromHours(1),
            RefreshCheckInterval = TimeSpan.FromMinutes(1),
        };
        configure?.Invoke(options);
        return await LaunchAsync(folder, keys, options, configureBuilder);
    }

    /// <summary>
    /// Stops this jobs-manager (as a pod is replaced: every in-memory job is gone) and starts a new
    /// one on the same folders, keys and options; the new host owns the folder from now on.
    /// </summary>
    public async Task<ApiHost> RestartAsync()
    {
        await StopAppAsync();
        return await LaunchAsync(Folder, Keys, Options, _configureBuilder);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await StopAppAsync();
            Folder.Dispose();
        }
    }

    private static async Task<ApiHost> LaunchAsync(TempFolder folder, KeyRingVolume keys, JobsManagerOptions options, Action<WebApplicationBuilder>? configureBuilder)
    {
        var host = await LoopbackApp.StartAsync(JobsManagerApp.Build(["--urls", LoopbackApp.AnyPort], options, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            configureBuilder?.Invoke(builder);
        }));
        var client = host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return new ApiHost(folder, keys, options, host, client, configureBuilder);
    }

    private async Task StopAppAsync()
    {
        _stopped = true;
        Client.Dispose();
        await _host.DisposeAsync();
    }
}
