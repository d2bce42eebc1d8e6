using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Hosting;

/// <summary>
/// Stateless proxy only: not ready until this pod's copy of the legacy token ConfigMap says
/// <c>issuing: closed</c> (<see cref="LegacyIssuer"/>) — until then a legacy jobs-manager may have
/// listed an opaque token this copy lacks (the kubelet syncs it a minute or more later), and the
/// token's job would be refused here. Checked every legacy list poll, off the request path: the
/// marker is read first, then the list again, so the list in force is at least as new as the
/// <c>closed</c> that opened the gate. Once open it stays open for the life of the process: a flip
/// back writes <c>opaque</c>, and the stateless pods already serving keep serving (the legacy
/// jobs-manager issues signed tokens while the DNS lists any of them). No marker next to an
/// existing list (a jobs-manager older than the marker wrote it) counts as <c>opaque</c>; no list
/// at all where none is required (a laptop) opens it.
/// </summary>
internal sealed class LegacyIssuingGate(ProxySettings settings, LegacyTokenSource list, TimeProvider time, ILogger logger) : IDisposable
{
    private readonly string _markerPath = Path.Combine(settings.LegacyTokensDirectory, LegacyIssuer.FileName);
    private readonly Lock _lock = new();
    private volatile string? _problem = "the legacy token list's issuing marker has not been read yet";
    private ITimer? _timer;

    /// <summary>Open: no legacy jobs-manager can add a token this pod lacks.</summary>
    public bool IsOpen => _problem is null;

    /// <summary>Why the gate is shut; null once open.</summary>
    public string? Problem => _problem;

    public void Start()
    {
        Check();
        if (!IsOpen)
        {
            _timer = time.CreateTimer(_ => Check(), null, settings.LegacyTokensPollInterval, settings.LegacyTokensPollInterval);
        }
    }

    /// <summary>Reads the marker (and then the list) now; true once open.</summary>
    public bool Check()
    {
        lock (_lock)
        {
            if (IsOpen)
            {
                return true;
            }

            var problem = Evaluate();
            if (problem is null)
            {
                _problem = null;
                _timer?.Dispose();
                Log.LegacyIssuingClosed(logger, _markerPath, list.Current.Count);
                return true;
            }

            if (problem != _problem)
            {
                Log.LegacyIssuingWaiting(logger, problem);
            }

            _problem = problem;
            return false;
        }
    }

    private string? Evaluate()
    {
        string text;
        try
        {
            text = File.ReadAllText(_markerPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            if (!settings.LegacyTokensRequired && !File.Exists(list.FilePath))
            {
                // No list anywhere and none required: nothing a legacy jobs-manager wrote can be missing here.
                return null;
            }

            return $"no issuing marker '{_markerPath}' next to the legacy token list (written by a jobs-manager older than this proxy, which may run legacy): " +
                "waiting for the stateless jobs-manager's 'closed' to reach this pod";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the issuing marker '{_markerPath}' could not be read: {e.Message}";
        }

        if (!LegacyIssuer.TryParse(text, out var issuer))
        {
            return $"the issuing marker '{_markerPath}' says '{text.Trim()}'; expected 'opaque' or 'closed'";
        }

        if (!issuer.IsClosed)
        {
            return $"the legacy token list says issuing: {issuer} (a legacy jobs-manager may list tokens this pod's copy lacks): " +
                "waiting for the stateless jobs-manager's 'closed' to reach this pod";
        }

        // Read after the marker: the kubelet swaps the whole ConfigMap at once, so this copy is as new as the 'closed'.
        list.Reload();
        return list.IsReady && list.LastFailure is null
            ? null
            : $"the issuing marker says closed, but the legacy token list is not current: {list.LastFailure ?? "not read yet"}";
    }

    public void Dispose() => _timer?.Dispose();
}
