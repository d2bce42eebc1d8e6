using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>
/// The core wired to a real key ring folder (kubelet-style volume) and a fake clock, with a
/// runtime and a revocation store the test chooses.
/// </summary>
internal sealed class CoreHarness : IDisposable
{
    public CoreHarness(
        IJobRuntime? runtime = null,
        IRevocationStore? store = null,
        JobsManagerOptions? options = null,
        TimeProvider? time = null,
        Func<JobsManagerOptions, IJobRuntime>? runtimeFactory = null,
        Func<JobsManagerOptions, IRevocationStore>? storeFactory = null)
    {
        Folder = new TempFolder("rp-jm");
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        Time = time as FakeTimeProvider ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var clock = time ?? Time;
        Options = options ?? new JobsManagerOptions { TokenLifetime = TimeSpan.FromHours(1), RefreshCheckInterval = TimeSpan.FromMinutes(1), StateDirectory = Folder.Combine("state"), RevokedDirectory = Folder.Combine("revoked") };
        Options.KeysDirectory = Keys.Path;
        Runtime = runtime ?? runtimeFactory?.Invoke(Options) ?? new InMemoryJobRuntime();
        Store = store ?? storeFactory?.Invoke(Options) ?? new InMemoryRevocationStore();
        MeterFactory = new TestMeterFactory();
        Metrics = new JobsManagerMetrics(MeterFactory);
        KeySource = new KeyRingSource(Keys.Path, TimeSpan.FromSeconds(10), clock);
        KeySource.Start();
        Ledger = new RevocationLedger(Store, Options, clock, Metrics, NullLogger<RevocationLedger>.Instance);
        Credentials = new StatelessJobCredentials(new TokenIssuer(KeySource, clock), KeySource, Ledger, Options, clock);
        Manager = new JobManager(Runtime, Credentials, Ledger, Options, clock, Metrics, NullLogger<JobManager>.Instance);
    }

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public KeyRingSource KeySource { get; }

    public FakeTimeProvider Time { get; }

    public JobsManagerOptions Options { get; }

    public IJobRuntime Runtime { get; }

    public IRevocationStore Store { get; }

    public TestMeterFactory MeterFactory { get; }

    public JobsManagerMetrics Metrics { get; }

    public RevocationLedger Ledger { get; }

    public StatelessJobCredentials Credentials { get; }

    public JobManager Manager { get; }

    public static JobSpec Spec(string name, string? image = "trainer:1", params string[] command) =>
        new(name, image, command, [], TokenDefaults.Scope, new Dictionary<string, string>());

    public async Task<JobView> StartAsync(string name, params string[] command)
    {
        var result = await Manager.StartAsync(Spec(name, "trainer:1", command), CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
        return result.Value!;
    }

    public void Dispose()
    {
        KeySource.Dispose();
        MeterFactory.Dispose();
        Folder.Dispose();
    }
}
