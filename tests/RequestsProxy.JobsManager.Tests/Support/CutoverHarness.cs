using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Audit;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>
/// Jobs-managers of either mode over the same durable state — key ring folder, revocation list,
/// job ledger, legacy token list, runtime (its jobs outlive a jobs-manager, like Kubernetes Jobs) —
/// and one fake clock, as the flip between the modes (DESIGN §12) sees them. The proxies' admin
/// endpoint is a stub handler that records every call (nothing is sent anywhere).
/// </summary>
internal sealed class CutoverHarness : IDisposable
{
    public CutoverHarness()
    {
        Folder = new TempFolder("rp-cutover");
        Keys = new KeyRingVolume(Folder.Combine("keys"));
        var admin = Folder.Combine("admin", "token");
        Directory.CreateDirectory(Path.GetDirectoryName(admin)!);
        File.WriteAllText(admin, "admin-secret\n");
        _adminFile = admin;
        KeySource = new KeyRingSource(Keys.Path, TimeSpan.FromSeconds(10), Time);
        KeySource.Start();
        Http = new HttpClient(Proxies);
    }

    private readonly string _adminFile;

    public TempFolder Folder { get; }

    public KeyRingVolume Keys { get; }

    public KeyRingSource KeySource { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public TimeSpan Grace { get; } = TimeSpan.FromMinutes(5);

    /// <summary>The options of a jobs-manager of that mode (the chart sets the same env on both).</summary>
    public JobsManagerOptions Options(bool stateless) => new()
    {
        Stateless = stateless,
        TokenLifetime = TimeSpan.FromHours(1),
        RefreshCheckInterval = TimeSpan.FromMinutes(1),
        LegacyTokenGrace = Grace,
        KeysDirectory = Keys.Path,
        AdminTokenFile = _adminFile,
        ProxyUrl = new Uri("http://127.0.0.1:1/"),
    };

    public InMemoryJobRuntime Runtime { get; } = new();

    public InMemoryRevocationStore Revocations { get; } = new();

    public InMemoryJobLedgerStore Ledger { get; } = new();

    public InMemoryDocumentStore<LegacyTokenList> LegacyTokens { get; } = new(LegacyTokenListCodec.Instance);

    /// <summary>The list's issuing marker (the <c>issuing</c> key beside it): what a stateless proxy waits for.</summary>
    public InMemoryDocumentStore<LegacyIssuer> Issuer { get; } = new(LegacyIssuerCodec.Instance);

    public StubProxies Proxies { get; } = new();

    public HttpClient Http { get; }

    public LegacyTokenList List => LegacyTokens.Document;

    /// <summary>The metrics of the jobs-manager started last.</summary>
    public JobsManagerMetrics Metrics { get; private set; } = null!;

    /// <summary>The legacy credentials of the jobs-manager started last (its registration sync).</summary>
    public LegacyJobCredentials Legacy { get; private set; } = null!;

    /// <summary>A jobs-manager process of the given mode, restored from the shared state.</summary>
    public async Task<JobManager> StartManagerAsync(bool stateless)
    {
        var options = Options(stateless);
        var metrics = new JobsManagerMetrics(new TestMeterFactory());
        var revocations = new RevocationLedger(Revocations, options, Time, metrics, NullLogger<RevocationLedger>.Instance);
        var signed = new StatelessJobCredentials(new TokenIssuer(KeySource, Time), KeySource, revocations, options, Time);
        Metrics = metrics;
        var legacy = new LegacyJobCredentials(Http, new AdminTokenProvider(options), Proxies, LegacyTokens, options, Time, NullLogger<LegacyJobCredentials>.Instance, metrics, Issuer);
        Legacy = legacy;
        var credentials = new JobCredentials(signed, legacy, options, NullLogger<JobCredentials>.Instance);
        var manager = new JobManager(Runtime, credentials, revocations, new JobLedger(Ledger, options, Time, metrics, NullLogger<JobLedger>.Instance),
            options, Time, metrics, JobAudit.None, NullLogger<JobManager>.Instance);
        // As JobMaintenanceService.StartAsync: the list's issuing marker first, then the ledger.
        await legacy.DeclareIssuerAsync(CancellationToken.None);
        Assert.True(await manager.RestoreAsync(CancellationToken.None), manager.RestoreProblem);
        return manager;
    }

    /// <summary>One maintenance pass, as <see cref="JobMaintenanceService"/> runs it.</summary>
    public static async Task PassAsync(JobManager manager)
    {
        await manager.SyncStatesAsync(CancellationToken.None);
        await manager.RevokeFinishedAsync(CancellationToken.None);
        await manager.RefreshAsync(CancellationToken.None);
        await manager.ConvergeLegacyTokensAsync(CancellationToken.None);
    }

    public static async Task<JobView> StartAsync(JobManager manager, string name)
    {
        var result = await manager.StartAsync(CoreHarness.Spec(name), CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
        return result.Value!;
    }

    /// <summary>The token the job holds now (what its Secret or file says).</summary>
    public string TokenOf(string job) => Runtime.Tokens[job].Token;

    public LegacyTokenEntry? EntryOf(string token) => List.Entries.SingleOrDefault(e => e.Digest == LegacyTokenDigest.Compute(token));

    public void Dispose()
    {
        Http.Dispose();
        KeySource.Dispose();
        Folder.Dispose();
    }

    /// <summary>Every proxy replica's admin endpoint: answers as a legacy proxy does (or with <see cref="Status"/>) and records the call.</summary>
    internal sealed class StubProxies : HttpMessageHandler, ILegacyProxyEndpoints
    {
        public ConcurrentQueue<(HttpMethod Method, string Path)> Calls { get; } = new();

        /// <summary>Set to make every replica answer this instead.</summary>
        public HttpStatusCode? Status { get; set; }

        /// <summary>Called at each registration, before it is answered (the test looks at the list then).</summary>
        public Action? OnRegister { get; set; }

        /// <summary>A replica that refuses registrations (503) while the others accept them.</summary>
        public Uri? Refusing { get; set; }

        /// <summary>A replica that refuses forgets (503) while the others accept them.</summary>
        public Uri? RefusingForgets { get; set; }

        /// <summary>A replica that cannot be reached (connection refused) — a pod the DNS still lists after it is gone.</summary>
        public Uri? Unreachable { get; set; }

        /// <summary>Replicas that run stateless (they must never see the admin token).</summary>
        public IReadOnlyList<Uri> Stateless { get; set; } = [];

        /// <summary>Every request's target, Authorization header value and signature header (the tests check that no admin token went anywhere).</summary>
        public ConcurrentQueue<(Uri Target, string? Authorization, string? Signature)> Sent { get; } = new();

        /// <summary>The body of every registration sync (<c>POST /admin/v1/sync</c>).</summary>
        public ConcurrentQueue<System.Text.Json.JsonElement> Bodies { get; } = new();

        public Task<LegacyReplicas> ResolveAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new LegacyReplicas([new Uri("http://127.0.0.2:8888/"), new Uri("http://127.0.0.3:8888/")], Stateless));

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath == "/admin/v1/sync")
            {
                Bodies.Enqueue(System.Text.Json.JsonDocument.Parse(await request.Content!.ReadAsStringAsync(cancellationToken)).RootElement.Clone());
            }

            if (Unreachable is { } unreachable && unreachable.IsBaseOf(request.RequestUri!))
            {
                throw new HttpRequestException($"Connection refused ({request.RequestUri!.Authority})", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
            }

            Calls.Enqueue((request.Method, request.RequestUri!.AbsolutePath));
            Sent.Enqueue((request.RequestUri!, request.Headers.Authorization?.ToString(),
                request.Headers.TryGetValues(RequestsProxy.Tokens.Admin.AdminSignature.SignatureHeader, out var signature) ? signature.Single() : null));
            if (request.Method == HttpMethod.Post)
            {
                OnRegister?.Invoke();
            }

            var status = Status
                ?? (request.Method == HttpMethod.Delete && RefusingForgets is { } refusingForgets && refusingForgets.IsBaseOf(request.RequestUri!) ? HttpStatusCode.ServiceUnavailable : (HttpStatusCode?)null)
                ?? (request.Method == HttpMethod.Post && Refusing is { } refusing && refusing.IsBaseOf(request.RequestUri!) ? HttpStatusCode.ServiceUnavailable : (HttpStatusCode?)null)
                ?? (request.Method == HttpMethod.Post ? HttpStatusCode.Created : HttpStatusCode.OK);
            return new HttpResponseMessage(status);
        }
    }
}
