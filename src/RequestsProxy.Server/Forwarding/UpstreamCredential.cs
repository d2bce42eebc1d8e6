namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// An upstream credential from a mounted Secret file, re-read on a timer (the kubelet swaps the
/// ..data symlink, which watchers miss). An unreadable or empty update keeps the last good value.
/// </summary>
internal sealed class UpstreamCredential : IDisposable
{
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private string? _authorization;
    private string? _lastError;

    public UpstreamCredential(string path, TimeSpan pollInterval, TimeProvider time, ILogger logger)
    {
        Path = path;
        _logger = logger;
        Reload();
        _timer = time.CreateTimer(_ => Reload(), null, pollInterval, pollInterval);
    }

    public string Path { get; }

    /// <summary>The upstream Authorization header value, or null while no valid content was ever read.</summary>
    public string? Authorization => Volatile.Read(ref _authorization);

    public void Reload()
    {
        lock (_lock)
        {
            string content;
            try
            {
                content = File.ReadAllText(Path).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(e.Message);
                return;
            }

            if (content.Length == 0 || content.Any(char.IsControl))
            {
                Fail("the file is empty or holds more than one line");
                return;
            }

            var authorization = "Bearer " + content;
            _lastError = null;
            if (authorization != _authorization)
            {
                Volatile.Write(ref _authorization, authorization);
                Log.CredentialLoaded(_logger, Path);
            }
        }
    }

    private void Fail(string error)
    {
        // One log line per distinct problem, not one per poll.
        if (error != _lastError)
        {
            _lastError = error;
            Log.CredentialUnavailable(_logger, Path, error);
        }
    }

    public void Dispose() => _timer.Dispose();
}
