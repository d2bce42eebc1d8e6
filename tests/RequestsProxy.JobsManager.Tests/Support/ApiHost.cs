using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>The whole jobs-manager app on real Kestrel at 127.0.0.1, port 0, Local runtime, its own folders.</summary>
internal sealed class ApiHost : IAsyncDisposable
{
    public const string AdminToken = "admin-token-for-tests-0123456789";

    private ApiHost(TempFolder folder, KeyRingVolume keys, JobsManagerOptions options, WebApplication app, HttpClient client)
    {
        Folder = folder;
        Keys = keys;
        Options = options;
        App = app;
        Client = client;
    }

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public JobsManagerOptions Options { get; }

    public WebApplication App { get; }

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
        var app = JobsManagerApp.Build(["--urls", "http://127.0.0.1:0"], options, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            configureBuilder?.Invoke(builder);
        });
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return new ApiHost(folder, keys, options, app, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Folder.Dispose();
    }
}
