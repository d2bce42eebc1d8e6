namespace RequestsProxy.Server.Metrics;

/// <summary>
/// At most <see cref="PerSecond"/> refusal log lines (events 20–23 and 25) per second in this process.
/// Refusals need no valid token — any client that reaches the pod-facing port can cause one per
/// request — so without a budget a flooding pod writes thousands of lines a second and rotates the
/// events that matter (a refused key ring, a revocation list) out of the node's logs.
/// <c>requests_proxy_requests_total</c> still counts every refusal; the lines left out are
/// summed in one event 27 line when the next line is written.
/// </summary>
internal sealed class RefusalLogBudget(TimeProvider time, int perSecond = RefusalLogBudget.DefaultPerSecond)
{
    public const int DefaultPerSecond = 20;

    private readonly Lock _lock = new();
    private long _windowStart = long.MinValue;
    private int _written;
    private long _suppressed;
    private long _totalSuppressed;

    public int PerSecond { get; } = perSecond;

    /// <summary>Refusal lines left out since start.</summary>
    public long TotalSuppressed => Interlocked.Read(ref _totalSuppressed);

    /// <summary>
    /// True when this refusal may be logged; <paramref name="suppressed"/> is then the number of
    /// lines left out since the last one written (log them first), else 0.
    /// </summary>
    public bool TryTake(out long suppressed)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (_windowStart == long.MinValue || time.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
            {
                _windowStart = now;
                _written = 0;
            }

            if (_written >= PerSecond)
            {
                _suppressed++;
                Interlocked.Increment(ref _totalSuppressed);
                suppressed = 0;
                return false;
            }

            _written++;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
