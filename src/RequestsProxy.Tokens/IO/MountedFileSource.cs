namespace RequestsProxy.Tokens.IO;

/// <summary>
/// A JSON document in one or more files of a mounted ConfigMap folder (<see cref="MountedFiles"/>:
/// e.g. the revocation list's shards, one ConfigMap each), polled off the request path and swapped
/// as one immutable value: the <c>combine</c> of every file's last good part, in order.
/// Each file is judged on its own: a corrupt update or a vanished file keeps that file's last good
/// part (reported and counted once), while the other files' updates still apply. A file corrupt
/// before it was ever read leaves the source not ready (a replica restarted onto a broken file must
/// not start from nothing). A file that does not exist yet is left out (no file at all is the empty
/// document: the ConfigMap's first content, and a laptop without one) — unless the files are
/// <see cref="MountedFiles.Required"/>: then the source stays not ready until every named file has
/// been read once (an optional volume of a ConfigMap nobody created yet is an empty folder, and an
/// empty revocation list would accept every revoked token).
/// </summary>
public class MountedFileSource<T> : IDisposable
    where T : class
{
    private readonly MountedFiles _files;
    private readonly IDocumentCodec<T> _codec;
    private readonly Func<IReadOnlyList<T>, T> _combine;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _reloadLock = new();

    // Per file name, under _reloadLock: the last good content and its part; the last bad content (reported once); vanished files (reported once).
    private readonly Dictionary<string, (byte[] Content, T Part)> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _bad = new(StringComparer.Ordinal);
    private readonly HashSet<string> _missing = new(StringComparer.Ordinal);
    private string _waitingFor = "";
    private ITimer? _timer;
    private T _current;
    private bool _ready;
    private long _reloads;
    private long _failures;
    private int _missingCount;
    private string? _lastFailure;

    /// <param name="path">The file (inside the ConfigMap volume).</param>
    /// <param name="codec">Parses it; its empty document is the value before any file was read, and of a file that does not exist yet.</param>
    /// <param name="required">Not ready until the file has been read once (see <see cref="MountedFiles.Required"/>).</param>
    public MountedFileSource(string path, IDocumentCodec<T> codec, TimeSpan pollInterval, TimeProvider time, bool required = false)
        : this(MountedFiles.Single(path, required), codec, parts => parts[0], pollInterval, time)
    {
    }

    /// <param name="files">The files that make up the document.</param>
    /// <param name="codec">Parses each file; its empty document is the value before any file was read.</param>
    /// <param name="combine">The document of several parts (called with at least one, in the files' order).</param>
    public MountedFileSource(MountedFiles files, IDocumentCodec<T> codec, Func<IReadOnlyList<T>, T> combine, TimeSpan pollInterval, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfZero(files.Names.Count);
        _files = files;
        _codec = codec;
        _combine = combine;
        _current = codec.Empty;
        _pollInterval = pollInterval;
        _time = time;
    }

    public event Action<T>? Changed;

    public event Action<string>? ReloadFailed;

    /// <summary>Raised when the source starts (or stops) waiting for required files: their paths, or "" once none is missing.</summary>
    public event Action<string>? Waiting;

    /// <summary>The first named file.</summary>
    public string FilePath => _files.PathOf(_files.Names[0]);

    public MountedFiles Files => _files;

    public string Description => _codec.Description;

    public T Current => Volatile.Read(ref _current);

    /// <summary>Every file has been read at least once (or, when not required, none existed at the first read).</summary>
    public bool IsReady => Volatile.Read(ref _ready);

    public long ReloadCount => Interlocked.Read(ref _reloads);

    public long ReloadFailureCount => Interlocked.Read(ref _failures);

    /// <summary>Files read before that have vanished since: their last good part stays in force.</summary>
    public int MissingFileCount => Volatile.Read(ref _missingCount);

    /// <summary>Why the source is not ready, or what the last refused update was; null once every file is current.</summary>
    public string? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>When the files' content last became the value in force.</summary>
    public DateTimeOffset? LastChangedAt { get; private set; }

    public void Start()
    {
        Reload();
        _timer ??= _time.CreateTimer(_ => Reload(), null, _pollInterval, _pollInterval);
    }

    /// <summary>Reads the files now; true when the value in force changed.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            var changed = false;
            var troubled = false;
            List<string> waiting = [];
            var names = _files.List(_loaded.Keys);
            foreach (var name in names)
            {
                var path = _files.PathOf(name);
                byte[] content;
                try
                {
                    content = File.ReadAllBytes(path);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    if (_loaded.ContainsKey(name))
                    {
                        // Read before: a vanished file keeps its last good part, reported once per disappearance.
                        troubled = true;
                        if (_missing.Add(name))
                        {
                            Fail($"{Description} '{path}' does not exist, keeping the last good list");
                        }
                    }
                    else if (_files.Required && _files.Names.Contains(name, StringComparer.Ordinal))
                    {
                        waiting.Add(path);
                    }

                    _bad.Remove(name);
                    continue;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    troubled = true;
                    Fail($"{Description} '{path}' could not be read: {e.Message}");
                    if (!_loaded.ContainsKey(name))
                    {
                        waiting.Add(path);
                    }

                    continue;
                }

                _missing.Remove(name);

                // The same content as last time: nothing to parse, and a known-bad file is reported once, not every poll.
                if (_loaded.TryGetValue(name, out var last) && content.AsSpan().SequenceEqual(last.Content))
                {
                    _bad.Remove(name);
                    continue;
                }

                if (_bad.TryGetValue(name, out var bad) && content.AsSpan().SequenceEqual(bad))
                {
                    troubled = true;
                    continue;
                }

                if (!_codec.TryParse(content, out var part, out var error))
                {
                    _bad[name] = content;
                    troubled = true;
                    Fail($"{Description} '{path}' is invalid, keeping the last good list: {error}");
                    continue;
                }

                _bad.Remove(name);
                _loaded[name] = (content, part);
                changed = true;
            }

            Volatile.Write(ref _missingCount, _missing.Count);

            // Not ready while a required file was never read, or a file that exists never parsed.
            var neverParsed = _bad.Keys.Any(n => !_loaded.ContainsKey(n));
            if (!IsReady && (neverParsed || waiting.Count > 0))
            {
                ReportWaiting(waiting);
                if (!neverParsed)
                {
                    Volatile.Write(ref _lastFailure,
                        $"{Description}: waiting for {string.Join(", ", waiting.Select(p => $"'{p}'"))} (its ConfigMap does not exist yet, or the kubelet has not synced it into the volume yet)");
                }

                return false;
            }

            ReportWaiting([]);
            if (!troubled)
            {
                Volatile.Write(ref _lastFailure, null);
            }

            if (!changed && IsReady)
            {
                return false;
            }

            var parts = names.Where(_loaded.ContainsKey).Select(n => _loaded[n].Part).ToList();
            var value = parts.Count == 0 ? _codec.Empty : _combine(parts);
            Volatile.Write(ref _current, value);
            Volatile.Write(ref _ready, true);
            LastChangedAt = _time.GetUtcNow();
            Interlocked.Increment(ref _reloads);
            Changed?.Invoke(value);
            return true;
        }
    }

    private void ReportWaiting(List<string> waiting)
    {
        var now = string.Join(", ", waiting);
        if (now != _waitingFor)
        {
            _waitingFor = now;
            Waiting?.Invoke(now);
        }
    }

    private void Fail(string error)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _lastFailure, error);
        ReloadFailed?.Invoke(error);
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
