using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The background loop on the injected <see cref="TimeProvider"/>. At start it rebuilds the job
/// table from the ledger (retried every pass until it succeeds); every check interval it reads job
/// states, revokes the tokens of finished jobs and re-issues tokens past half their lifetime; a
/// change of the active kid wakes it at once so every live job moves to the new key; every prune
/// interval it prunes the revocation list and the ledger.
/// </summary>
internal sealed partial class JobMaintenanceService(
    JobManager jobs,
    RevocationLedger ledger,
    JobsManagerOptions options,
    TimeProvider time,
    ILogger<JobMaintenanceService> logger,
    KeyRingSource? keys = null,
    IStoreProvisioner? stores = null,
    LegacyJobCredentials? legacy = null) : BackgroundService
{
    private bool _storesExist = stores is null;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private string? _lastActiveKid;
    private long _passes;

    /// <summary>Completed passes (tests wait on it).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>Runs a pass now instead of at the next tick.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A wake-up is already pending; one pass serves both.
        }
    }

    /// <summary>
    /// One restore attempt before the host (and the API) is up, so a healthy start serves its first
    /// request with the whole job table; a failed attempt does not block start-up (the loop retries).
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await EnsureStoresAsync(cancellationToken).ConfigureAwait(false);

        // Before the API listens: the legacy list says who may add to it (opaque / closed), issue 15 C3.
        if (legacy is not null && _storesExist)
        {
            await legacy.DeclareIssuerAsync(cancellationToken).ConfigureAwait(false);
        }

        await jobs.RestoreAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (keys is not null)
        {
            _lastActiveKid = keys.Current?.ActiveKid;
            keys.Changed += OnKeyRingChanged;
        }

        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            if (keys is not null)
            {
                keys.Changed -= OnKeyRingChanged;
            }
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var nextPrune = DateTimeOffset.MinValue;
        try
        {
            // The list's size is exported from the start, not only after the first change.
            await ledger.ReadAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.PassFailed(logger, "read revocation list", e);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            await PassAsync(stoppingToken).ConfigureAwait(false);
            if (time.GetUtcNow() >= nextPrune)
            {
                try
                {
                    await jobs.PruneAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.PassFailed(logger, "prune", e);
                }

                nextPrune = time.GetUtcNow() + options.PruneInterval;
            }

            // The tick starts before the pass is counted: whoever waits on Passes and then moves the clock hits it.
            using var tick = new CancellationTokenSource(options.RefreshCheckInterval, time);
            Interlocked.Increment(ref _passes);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(tick.Token, stoppingToken);
            try
            {
                await _wake.WaitAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The tick elapsed: time for the next pass.
            }
        }
    }

    /// <summary>Creates the stores that do not exist yet, until that succeeded once (start-up only: see ConfigMapProvisioner).</summary>
    private async Task EnsureStoresAsync(CancellationToken cancellationToken)
    {
        if (!_storesExist && stores is not null)
        {
            _storesExist = await stores.EnsureAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PassAsync(CancellationToken stoppingToken)
    {
        await EnsureStoresAsync(stoppingToken).ConfigureAwait(false);
        if (legacy is not null && _storesExist)
        {
            await legacy.DeclareIssuerAsync(stoppingToken).ConfigureAwait(false);
        }

        if (!jobs.IsRestored && !await jobs.RestoreAsync(stoppingToken).ConfigureAwait(false))
        {
            return;
        }

        // Each step on its own: one that fails (an apiserver error) is logged and the others still run.
        await StepAsync("read job states", jobs.SyncStatesAsync, stoppingToken).ConfigureAwait(false);
        // Adopt mode: labelled Jobs still waiting for a token, and adopted ones that are gone.
        await StepAsync("adopt labelled jobs", jobs.ReconcileAdoptedAsync, stoppingToken).ConfigureAwait(false);
        await StepAsync("revoke finished jobs", jobs.RevokeFinishedAsync, stoppingToken).ConfigureAwait(false);
        await StepAsync("refresh", jobs.RefreshAsync, stoppingToken).ConfigureAwait(false);
        await StepAsync("legacy token list", jobs.ConvergeLegacyTokensAsync, stoppingToken).ConfigureAwait(false);
    }

    private async Task StepAsync(string step, Func<CancellationToken, Task> run, CancellationToken stoppingToken)
    {
        try
        {
            await run(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.PassFailed(logger, step, e);
        }
    }

    private void OnKeyRingChanged(KeyRing ring)
    {
        var previous = Interlocked.Exchange(ref _lastActiveKid, ring.ActiveKid);
        if (previous != ring.ActiveKid)
        {
            Log.ActiveKidChanged(logger, previous, ring.ActiveKid);
            Wake();
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "The active kid changed from {Previous} to {Active}; re-issuing every live job's token")]
        public static partial void ActiveKidChanged(ILogger logger, string? previous, string active);

        [LoggerMessage(EventId = 201, Level = LogLevel.Error, Message = "Maintenance step '{Step}' failed; retried on the next pass")]
        public static partial void PassFailed(ILogger logger, string step, Exception exception);
    }
}
