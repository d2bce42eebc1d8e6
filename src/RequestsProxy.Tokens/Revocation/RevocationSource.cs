namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// The revocation list of a mounted file, polled off the request path and swapped as an
/// immutable set. A corrupt file at start leaves the source not ready (a replica restarted onto
/// a broken list must not forget every revocation); a file that does not exist yet at start is
/// the empty list (the ConfigMap's first content, and a laptop without one), and stays so quietly while
/// no file appears. Once a list read from the file is in force, a corrupt or vanished file keeps it;
/// both are reported and counted.
/// </summary>
public sealed class RevocationSource : IRevocationSource, IDisposable
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _reloadLock = new();
    private ITimer? _timer;
    private RevocationList _current = RevocationList.Empty;
    private byte[]? _lastContent;
    private byte[]? _lastBadContent;
    private bool _missingReported;
    private bool _fileSeen;
    private bool _ready;
    private long _reloads;
    private long _failures;
    private string? _lastFailure;

    /// <param name="directory">The folder holding <c>revoked.json</c> (the ConfigMap volume).</param>
    public RevocationSource(string directory, TimeSpan pollInterval, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        _path = Path.Combine(directory, RevocationFile.FileName);
        _pollInterval = pollInterval;
        _time = time;
    }

    public event Action<RevocationList>? Changed;

    public event Action<string>? ReloadFailed;

    public string FilePath => _path;

    public RevocationList Current => Volatile.Read(ref _current);

    /// <summary>A valid list has been read at least once.</summary>
    public bool IsReady => Volatile.Read(ref _ready);

    public long ReloadCount => Interlocked.Read(ref _reloads);

    public long ReloadFailureCount => Interlocked.Read(ref _failures);

    public string? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>When the file's content last became the list in force.</summary>
    public DateTimeOffset? LastChangedAt { get; private set; }

    public void Start()
    {
        Reload();
        _timer ??= _time.CreateTimer(_ => Reload(), null, _pollInterval, _pollInterval);
    }

    /// <summary>Reads the file now; true when the list in force changed.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(_path);
                _missingReported = false;
                _fileSeen = true;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Never a file (a laptop, a test): the empty list in force, quietly, on every poll. Only a list read
                // from a file that then vanished is worth an error (a broken mount must not revive revoked tokens).
                if (IsReady && _fileSeen)
                {
                    // A list is in force: a vanished file keeps it, reported once per disappearance.
                    if (_missingReported)
                    {
                        return false;
                    }

                    _missingReported = true;
                    return Fail($"revocation list '{_path}' does not exist, keeping the last good list");
                }

                // No file yet is the empty list (the ConfigMap's first content).
                content = "[]"u8.ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"revocation list '{_path}' could not be read: {e.Message}");
            }

            // The same content as last time: nothing to swap, and a known-bad file is reported once, not every poll.
            if ((_lastContent is not null && content.AsSpan().SequenceEqual(_lastContent)) ||
                (_lastBadContent is not null && content.AsSpan().SequenceEqual(_lastBadContent)))
            {
                return false;
            }

            if (!RevocationList.TryParse(content, out var list, out var error))
            {
                _lastBadContent = content;
                return Fail($"revocation list '{_path}' is invalid, keeping the last good list: {error}");
            }

            _lastContent = content;
            _lastBadContent = null;
            Volatile.Write(ref _lastFailure, null);
            Volatile.Write(ref _current, list);
            Volatile.Write(ref _ready, true);
            LastChangedAt = _time.GetUtcNow();
            Interlocked.Increment(ref _reloads);
            Changed?.Invoke(list);
            return true;
        }
    }

    private bool Fail(string error)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _lastFailure, error);
        ReloadFailed?.Invoke(error);
        return false;
    }

    public void Dispose() => _timer?.Dispose();
}
