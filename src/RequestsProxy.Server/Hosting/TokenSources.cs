using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// The key ring and the revocation list of stateless mode, polled off the request path.
/// Both are null in legacy mode.
/// </summary>
internal sealed class TokenSources : IHostedLifecycleService, IDisposable
{
    private readonly ILogger<TokenSources> _logger;

    public TokenSources(ProxySettings settings, TimeProvider time, ILogger<TokenSources> logger)
    {
        _logger = logger;
        if (!settings.Stateless)
        {
            return;
        }

        Keys = new KeyRingSource(settings.KeysDirectory, settings.KeysPollInterval, time);
        Revocations = new RevocationSource(settings.RevokedDirectory, settings.RevokedPollInterval, time);
        Validator = new TokenValidator(Keys, Revocations, settings.Validation, time);

        Keys.Changed += ring => Log.KeyRingLoaded(_logger, string.Join(',', ring.Kids), ring.ActiveKid, ring.Generation);
        Keys.ReloadFailed += error => Log.KeyRingRefused(_logger, error);
        Revocations.Changed += list => Log.RevocationListLoaded(_logger, list.Count);
        Revocations.ReloadFailed += error => Log.RevocationListRefused(_logger, error);
    }

    public KeyRingSource? Keys { get; }

    public RevocationSource? Revocations { get; }

    public TokenValidator? Validator { get; }

    /// <summary>Stateless: a valid key ring and a valid revocation list are loaded. Legacy: always.</summary>
    public bool IsReady => Keys is null || (Keys.IsReady && Revocations!.IsReady);

    /// <summary>Why the proxy is not ready, for <c>/readyz</c> and the logs.</summary>
    public string NotReadyReason =>
        Keys is { IsReady: false } keys ? keys.LastFailure ?? "no key ring loaded yet"
        : Revocations is { IsReady: false } revocations ? revocations.LastFailure ?? "no revocation list loaded yet"
        : "ready";

    // Load before Kestrel starts listening so a fresh replica is ready at its first request.
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Revocations?.Start();
        Keys?.Start();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        Keys?.Dispose();
        Revocations?.Dispose();
    }
}
