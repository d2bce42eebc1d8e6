namespace RequestsProxy.Tokens.Keys;

/// <summary>
/// The key ring of a folder, kept current. Polls the folder (Kubernetes swaps the ..data
/// symlink, which file watchers miss) and re-reads it at once, at most once a second, when a
/// token names an unknown kid. A bad update keeps the last good ring and is reported.
/// </summary>
public sealed class KeyRingSource : IKeyRingSource, IDisposable
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan UnknownKidRefreshInterval = TimeSpan.FromSeconds(1);

    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _reloadLock = new();
    private ITimer? _timer;
    private KeyRing? _current;
    private long _lastOnDemandReload = long.MinValue;
    private long _reloads;
    private long _failures;
    private string? _lastFailure;
    private string? _lastRefusal;

    public KeyRingSource(string directory, TimeSpan pollInterval, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        _directory = directory;
        _pollInterval = pollInterval;
        _time = time;
    }

    /// <summary>Raised after a new, valid ring replaced the previous one.</summary>
    public event Action<KeyRing>? Changed;

    /// <summary>Raised when the folder's content was refused; the message never holds key bytes.</summary>
    public event Action<string>? ReloadFailed;

    public string Directory => _directory;

    public KeyRing? Current => Volatile.Read(ref _current);

    public bool IsReady => Current is not null;

    /// <summary>Successful loads that changed the ring.</summary>
    public long ReloadCount => Interlocked.Read(ref _reloads);

    /// <summary>Loads refused because the folder's content was invalid (a refusal repeated poll after poll counts once).</summary>
    public long ReloadFailureCount => Interlocked.Read(ref _failures);

    public string? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>First load (which may fail: then the source is not ready and keeps retrying) and the poll timer.</summary>
    public void Start()
    {
        Reload();
        _timer ??= _time.CreateTimer(_ => Reload(), null, _pollInterval, _pollInterval);
    }

    /// <summary>Reads the folder now; true when the ring in force changed.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            var previous = _current;
            var result = KeyRingLoader.Load(_directory, (previous?.Generation ?? 0) + 1);
            if (!result.Success)
            {
                // The same refusal of the same update as at the last poll was already counted and
                // reported. A kubelet update is a new `..data` target, so two bad updates in a row
                // are two refusals even when they fail for the same reason.
                var refusal = result.Error + "\n" + DataTarget();
                if (refusal == _lastRefusal)
                {
                    return false;
                }

                _lastRefusal = refusal;
                Interlocked.Increment(ref _failures);
                Volatile.Write(ref _lastFailure, result.Error);
                ReloadFailed?.Invoke(result.Error!);
                return false;
            }

            Volatile.Write(ref _lastFailure, null);
            _lastRefusal = null;
            if (previous is not null && previous.Fingerprint == result.Ring!.Fingerprint)
            {
                return false;
            }

            Volatile.Write(ref _current, result.Ring);
            Interlocked.Increment(ref _reloads);
            Changed?.Invoke(result.Ring!);
            return true;
        }
    }

    // Where the kubelet's `..data` symlink points (a timestamped folder per update); null for a plain folder.
    private string? DataTarget()
    {
        try
        {
            return new FileInfo(Path.Combine(_directory, "..data")).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public KeyRing? RefreshForUnknownKid()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastOnDemandReload);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < UnknownKidRefreshInterval)
        {
            return Current;
        }

        // One caller per second does the read; the others use the ring in force.
        if (Interlocked.CompareExchange(ref _lastOnDemandReload, now, last) == last)
        {
            Reload();
        }

        return Current;
    }

    public void Dispose() => _timer?.Dispose();
}
