namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// The revocation list of a mounted folder — <c>revoked.json</c>, and the shards
/// <c>revoked-N.json</c> when the list spans several ConfigMaps (their union) — polled off the
/// request path and swapped as an immutable set. A corrupt file at start leaves the source not
/// ready (a replica restarted onto a broken list must not forget every revocation); no file yet at
/// start is the empty list (the ConfigMap's first content, and a laptop without one). Once a list is in
/// force, a corrupt or vanished file keeps it; both are reported and counted.
/// </summary>
public sealed class RevocationSource : IRevocationSource, IDisposable
{
    private const string ShardPattern = "revoked-*.json";

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pollInterval;
    private readonly Lock _reloadLock = new();
    private ITimer? _timer;
    private RevocationList _current = RevocationList.Empty;
    private readonly string _directory;
    private List<(string Path, byte[] Content)>? _lastContent;
    private List<(string Path, byte[] Content)>? _lastBadContent;
    private string[] _lastPaths = [];
    private bool _missingReported;
    private bool _ready;
    private long _reloads;
    private long _failures;
    private string? _lastFailure;

    /// <param name="directory">The folder holding <c>revoked.json</c> and any <c>revoked-N.json</c> shards (the ConfigMap volume).</param>
    public RevocationSource(string directory, TimeSpan pollInterval, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        _directory = directory;
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

    /// <summary>Reads the files now; true when the list in force changed.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            List<(string Path, byte[] Content)> files;
            try
            {
                files = ReadFiles();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"revocation list '{_path}' could not be read: {e.Message}");
            }

            if (IsReady && _lastPaths.FirstOrDefault(p => !files.Exists(f => f.Path == p)) is { } vanished)
            {
                // A list is in force: a vanished file (or shard) keeps it, reported once per disappearance.
                if (_missingReported)
                {
                    return false;
                }

                _missingReported = true;
                return Fail($"revocation list '{vanished}' does not exist, keeping the last good list");
            }

            _missingReported = false;
            var paths = files.Select(f => f.Path).ToArray();
            if (files.Count == 0)
            {
                // Nothing in force yet: no file is the empty list (the ConfigMap's first content).
                files.Add((_path, "[]"u8.ToArray()));
            }

            // The same content as last time: nothing to swap, and a known-bad file is reported once, not every poll.
            if (SameContent(files, _lastContent) || SameContent(files, _lastBadContent))
            {
                return false;
            }

            var entries = new List<RevocationEntry>();
            RevocationList? single = null;
            foreach (var (path, content) in files)
            {
                if (!RevocationList.TryParse(content, out var part, out var error))
                {
                    _lastBadContent = files;
                    return Fail($"revocation list '{path}' is invalid, keeping the last good list: {error}");
                }

                single = part;
                entries.AddRange(part.Entries);
            }

            var list = files.Count == 1 ? single! : new RevocationList(entries);
            _lastContent = files;
            _lastPaths = paths;
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

    /// <summary>
    /// revoked.json (the single-ConfigMap layout) and every shard revoked-N.json beside it (one
    /// ConfigMap each, projected into the same folder), in shard order; a file that does not exist is left out.
    /// </summary>
    private List<(string Path, byte[] Content)> ReadFiles()
    {
        var files = new List<(string Path, byte[] Content)>();
        TryRead(_path, files);
        if (!Directory.Exists(_directory))
        {
            return files;
        }

        var shards = Directory.EnumerateFiles(_directory, ShardPattern)
            .Select(path => (Path: path, Number: ShardNumber(System.IO.Path.GetFileName(path))))
            .Where(s => s.Number >= 0)
            .OrderBy(s => s.Number);
        foreach (var shard in shards)
        {
            TryRead(shard.Path, files);
        }

        return files;
    }

    private static void TryRead(string path, List<(string Path, byte[] Content)> files)
    {
        try
        {
            files.Add((path, File.ReadAllBytes(path)));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
        }
    }

    /// <summary>N of revoked-N.json; −1 for any other name.</summary>
    public static int ShardNumber(string fileName)
    {
        const string prefix = "revoked-";
        const string suffix = ".json";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(suffix, StringComparison.Ordinal))
        {
            return -1;
        }

        var digits = fileName.AsSpan(prefix.Length, fileName.Length - prefix.Length - suffix.Length);
        return digits.Length is > 0 and <= 4 && !digits.ContainsAnyExceptInRange('0', '9') ? int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    /// <summary>The name shard <paramref name="number"/> has in the proxy's folder.</summary>
    public static string ShardFileName(int number) => $"revoked-{number}.json";

    private static bool SameContent(List<(string Path, byte[] Content)> files, List<(string Path, byte[] Content)>? last) =>
        last is not null && last.Count == files.Count &&
        files.Zip(last).All(p => p.First.Path == p.Second.Path && p.First.Content.AsSpan().SequenceEqual(p.Second.Content));

    private bool Fail(string error)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _lastFailure, error);
        ReloadFailed?.Invoke(error);
        return false;
    }

    public void Dispose() => _timer?.Dispose();
}
