using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Legacy;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// The key ring, the revocation list and the legacy token list, polled off the request path. All
/// three in both modes: a legacy proxy verifies the JWTs a stateless jobs-manager mints, and a
/// stateless proxy accepts the legacy tokens still in use (DESIGN §12).
/// </summary>
internal sealed class TokenSources : IHostedLifecycleService, IDisposable
{
    private readonly ILogger<TokenSources> _logger;
    private readonly bool _stateless;

    public TokenSources(ProxySettings settings, TimeProvider time, ILogger<TokenSources> logger)
    {
        _logger = logger;
        _stateless = settings.Stateless;
        Keys = new KeyRingSource(settings.KeysDirectory, settings.KeysPollInterval, time);
        Revocations = new RevocationSource(settings.RevokedDirectory, settings.RevokedPollInterval, time, settings.RevokedShards);
        LegacyTokens = new LegacyTokenSource(settings.LegacyTokensDirectory, settings.LegacyTokensPollInterval, time, settings.LegacyTokensRequired);
        Validator = new TokenValidator(Keys, Revocations, settings.Validation, time);
        Issuing = new LegacyIssuingGate(settings, LegacyTokens, time, logger);

        Keys.Changed += ring => Log.KeyRingLoaded(_logger, string.Join(',', ring.Kids), ring.ActiveKid, ring.Generation);
        Keys.ReloadFailed += error => Log.KeyRingRefused(_logger, error);
        Revocations.Changed += list => Log.RevocationListLoaded(_logger, list.Count);
        Revocations.ReloadFailed += error => Log.RevocationListRefused(_logger, error);
        Revocations.Waiting += files => LogWaiting(Revocations.Description, files);
        LegacyTokens.Changed += list => Log.LegacyTokenListLoaded(_logger, list.Count);
        LegacyTokens.ReloadFailed += error => Log.LegacyTokenListRefused(_logger, error);
        LegacyTokens.Waiting += files => LogWaiting(LegacyTokens.Description, files);
    }

    private void LogWaiting(string list, string files)
    {
        if (files.Length > 0)
        {
            Log.ListWaiting(_logger, list, files);
        }
    }

    public KeyRingSource Keys { get; }

    public RevocationSource Revocations { get; }

    public LegacyTokenSource LegacyTokens { get; }

    public TokenValidator Validator { get; }

    /// <summary>Stateless: not ready until the legacy list says no legacy jobs-manager can add to it (DESIGN §12, issue 15 C3).</summary>
    public LegacyIssuingGate Issuing { get; }

    /// <summary>JWTs can be judged: a valid key ring and a valid revocation list are loaded.</summary>
    public bool JwtReady => Keys.IsReady && Revocations.IsReady;

    /// <summary>
    /// Stateless: JWTs and listed legacy tokens can be judged. Legacy: listed legacy tokens can
    /// (a JWT that arrives before the ring loads is answered 503 on its own).
    /// </summary>
    public bool IsReady => LegacyTokens.IsReady && (!_stateless || (JwtReady && Issuing.IsOpen));

    /// <summary>Why the proxy is not ready, for <c>/readyz</c> and the logs.</summary>
    public string NotReadyReason =>
        _stateless && !Keys.IsReady ? Keys.LastFailure ?? "no key ring loaded yet"
        : _stateless && !Revocations.IsReady ? Revocations.LastFailure ?? "no revocation list loaded yet"
        : !LegacyTokens.IsReady ? LegacyTokens.LastFailure ?? "no legacy token list loaded yet"
        : _stateless && Issuing.Problem is { } issuing ? issuing
        : "ready";

    // Load before Kestrel starts listening so a fresh replica is ready at its first request.
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Revocations.Start();
        LegacyTokens.Start();
        if (_stateless)
        {
            Issuing.Start();
        }

        Keys.Start();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        Keys.Dispose();
        Revocations.Dispose();
        LegacyTokens.Dispose();
        Issuing.Dispose();
    }
}
