using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RequestsProxy.JobsManager.Audit;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>
/// The core wired to a real key ring folder (kubelet-style volume) and a fake clock, with a
/// runtime, a revocation store and a job ledger store the test chooses. The manager has read its
/// (empty) ledger unless <c>restore</c> is false; <see cref="NewManager"/> builds a "restarted" one.
/// </summary>
internal sealed class CoreHarness : IDisposable
{
    public CoreHarness(
        IJobRuntime? runtime = null,
        IDocumentStore<RevocationList>? store = null,
        JobsManagerOptions? options = null,
        TimeProvider? time = null,
        Func<JobsManagerOptions, IJobRuntime>? runtimeFactory = null,
        Func<JobsManagerOptions, IDocumentStore<RevocationList>>? storeFactory = null,
        Func<JobsManagerOptions, IDocumentStore<JobLedgerDocument>>? ledgerStoreFactory = null,
        bool restore = true)
    {
        Folder = new TempFolder("rp-jm");
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        Time = time as FakeTimeProvider ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var clock = time ?? Time;
        Options = options ?? new JobsManagerOptions { TokenLifetime = TimeSpan.FromHours(1), RefreshCheckInterval = TimeSpan.FromMinutes(1), StateDirectory = Folder.Combine("state"), RevokedDirectory = Folder.Combine("revoked") };
        Options.KeysDirectory = Keys.Path;
        Runtime = runtime ?? runtimeFactory?.Invoke(Options) ?? new InMemoryJobRuntime();
        Store = store ?? storeFactory?.Invoke(Options) ?? new InMemoryRevocationStore();
        LedgerStore = ledgerStoreFactory?.Invoke(Options) ?? new InMemoryJobLedgerStore();
        MeterFactory = new TestMeterFactory();
        Metrics = new JobsManagerMetrics(MeterFactory);
        KeySource = new KeyRingSource(Keys.Path, TimeSpan.FromSeconds(10), clock);
        KeySource.Start();
        Ledger = new RevocationLedger(Store, Options, clock, Metrics, NullLogger<RevocationLedger>.Instance);
        JobLedger = new JobLedger(LedgerStore, Options, clock, Metrics, NullLogger<JobLedger>.Instance);
        Credentials = new StatelessJobCredentials(new TokenIssuer(KeySource, clock), KeySource, Ledger, Options, clock);
        AuditLog = new FakeLogCollector();
        _auditLoggers = new LoggerFactory([new FakeLoggerProvider(AuditLog)]);
        Log = new FakeLogCollector();
        _managerLoggers = new LoggerFactory([new FakeLoggerProvider(Log)]);
        Manager = new JobManager(Runtime, Credentials, Ledger, JobLedger, Options, clock, Metrics, new JobAudit(_auditLoggers), _managerLoggers.CreateLogger<JobManager>());
        if (restore)
        {
            // In-memory and local stores complete synchronously; HTTP-backed harnesses pass restore: false and await it.
            Assert.True(Manager.RestoreAsync(CancellationToken.None).GetAwaiter().GetResult(), Manager.RestoreProblem);
        }
    }

    private readonly LoggerFactory _auditLoggers;
    private readonly LoggerFactory _managerLoggers;

    /// <summary>What the manager (and its collaborators) logged.</summary>
    public FakeLogCollector Log { get; }

    public TempFolder Folder { get; }

    /// <summary>What <see cref="Manager"/> wrote to the audit trail.</summary>
    public FakeLogCollector AuditLog { get; }

    public KeyRingVolume Keys { get; }

    public KeyRingSource KeySource { get; }

    public FakeTimeProvider Time { get; }

    public JobsManagerOptions Options { get; }

    public IJobRuntime Runtime { get; }

    public IDocumentStore<RevocationList> Store { get; }

    public TestMeterFactory MeterFactory { get; }

    public JobsManagerMetrics Metrics { get; }

    public RevocationLedger Ledger { get; }

    public IDocumentStore<JobLedgerDocument> LedgerStore { get; }

    public JobLedger JobLedger { get; }

    public StatelessJobCredentials Credentials { get; }

    public JobManager Manager { get; }

    /// <summary>
    /// A second jobs-manager on the same keys, clock and options — what a restarted process is: it
    /// knows nothing but what the stores hold. Not restored yet.
    /// </summary>
    public JobManager NewManager(IJobRuntime runtime, IDocumentStore<RevocationList> store, IDocumentStore<JobLedgerDocument> ledgerStore)
    {
        var metrics = new JobsManagerMetrics(MeterFactory);
        var ledger = new RevocationLedger(store, Options, Time, metrics, NullLogger<RevocationLedger>.Instance);
        var credentials = new StatelessJobCredentials(new TokenIssuer(KeySource, Time), KeySource, ledger, Options, Time);
        return new JobManager(runtime, credentials, ledger, new JobLedger(ledgerStore, Options, Time, metrics, NullLogger<JobLedger>.Instance),
            Options, Time, metrics, JobAudit.None, NullLogger<JobManager>.Instance);
    }

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
        _auditLoggers.Dispose();
        _managerLoggers.Dispose();
        KeySource.Dispose();
        MeterFactory.Dispose();
        Folder.Dispose();
    }
}
