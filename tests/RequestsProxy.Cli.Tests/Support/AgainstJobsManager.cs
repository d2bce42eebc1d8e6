using RequestsProxy.Testing.Files;

namespace RequestsProxy.Cli.Tests.Support;

/// <summary>
/// rpctl tests against a jobs-manager of their own (one per test): a key ring made by
/// <c>rpctl keys init</c> in a temp folder, and the real jobs-manager app over it.
/// </summary>
public abstract class AgainstJobsManager(string folderPrefix) : IAsyncLifetime
{
    /// <summary>A local job that runs until it is stopped.</summary>
    private protected const string LongRunning = "while true; do sleep 0.2; done";

    private protected TempFolder Temp { get; } = new(folderPrefix);

    private protected JobsManagerHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var keys = Temp.Combine("keys");
        Assert.Equal(0, (await Rpctl.RunAsync("keys", "init", "--dir", keys)).ExitCode);
        Host = await JobsManagerHost.StartAsync(keys);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Temp.Dispose();
    }
}
