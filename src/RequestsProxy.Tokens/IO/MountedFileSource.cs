namespace RequestsProxy.Tokens.IO;

/// <summary>
/// One JSON file of a mounted ConfigMap, polled off the request path and swapped as an immutable
/// value. A corrupt file at start leaves the source not ready (a replica restarted onto a broken
/// file must not start from nothing); a file that does not exist yet at start is the empty value
/// (the ConfigMap's first content, and a laptop without one). Once a value is in force, a corrupt
/// or vanished file keeps it; both are reported and counted.
/// </summary>
public class MountedFileSource<T> : IDisposable
    where T : class
{
    private readonly string _path;
    private readonly IDocumentCodec<T> _codec;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _reloadLock = new();
    private ITimer? _timer;
    private T _current;
    private byte[]? _lastContent;
    private byte[]? _lastBadContent;
    private bool _missingReported;
    private bool _ready;
    private long _reloads;
    private long _failures;
    private string? _lastFailure;

    /// <param name="path">The file (inside the ConfigMap volume).</param>
    /// <param name="codec">Parses it; its empty document is the value before any file was read, and of a file that does not exist yet.</param>
    public MountedFileSource(string path, IDocumentCodec<T> codec, TimeSpan pollInterval, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        _path = path;
        _codec = codec;
        _current = codec.Empty;
        _pollInterval = pollInterval;
        _time = time;
    }

    public event Action<T>? Changed;

    public event Action<string>? ReloadFailed;

    public string FilePath => _path;

    public string Description => _codec.Description;

    public T Current => Volatile.Read(ref _current);

    /// <summary>A valid file has been read at least once (or none existed at the first read).</summary>
    public bool IsReady => Volatile.Read(ref _ready);

    public long ReloadCount => Interlocked.Read(ref _reloads);

    public long ReloadFailureCount => Interlocked.Read(ref _failures);

    public string? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>When the file's content last became the value in force.</summary>
    public DateTimeOffset? LastChangedAt { get; private set; }

    public void Start()
    {
        Reload();
        _timer ??= _time.CreateTimer(_ => Reload(), null, _pollInterval, _pollInterval);
    }

    /// <summary>Reads the file now; true when the value in force changed.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(_path);
                _missingReported = false;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                if (IsReady)
                {
                    // A value is in force: a vanished file keeps it, reported once per disappearance.
                    if (_missingReported)
                    {
                        return false;
                    }

                    _missingReported = true;
                    return Fail($"{Description} '{_path}' does not exist, keeping the last good list");
                }

                // Nothing in force yet: no file is the empty document (the ConfigMap's first content).
                content = _codec.Serialize(_codec.Empty);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"{Description} '{_path}' could not be read: {e.Message}");
            }

            // The same content as last time: nothing to swap, and a known-bad file is reported once, not every poll.
            if ((_lastContent is not null && content.AsSpan().SequenceEqual(_lastContent)) ||
                (_lastBadContent is not null && content.AsSpan().SequenceEqual(_lastBadContent)))
            {
                return false;
            }

            if (!_codec.TryParse(content, out var value, out var error))
            {
                _lastBadContent = content;
                return Fail($"{Description} '{_path}' is invalid, keeping the last good list: {error}");
            }

            _lastContent = content;
            _lastBadContent = null;
            Volatile.Write(ref _lastFailure, null);
            Volatile.Write(ref _current, value);
            Volatile.Write(ref _ready, true);
            LastChangedAt = _time.GetUtcNow();
            Interlocked.Increment(ref _reloads);
            Changed?.Invoke(value);
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

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer?.Dispose();
        }
    }
}
