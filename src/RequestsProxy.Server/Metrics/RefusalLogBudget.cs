using System.Runtime.CompilerServices;

namespace RequestsProxy.Server.Metrics;

/// <summary>
/// At most <see cref="PerSecond"/> refusal log lines per second in this process: every per-request
/// line a caller can cause at will (events 20–25, 42, 50 for a failed relay beyond the sampling,
/// 62 and 63; finding A12 of 2026-12-02).
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
    /// True when a refusal line may be written to <paramref name="logger"/>; the event 27 summary of
    /// the lines left out since the last one written is written first.
    /// </summary>
    public bool MayLog(ILogger logger)
    {
        if (!TryTake(out var suppressed))
        {
            return false;
        }

        if (suppressed > 0)
        {
            Log.RefusalsSuppressed(logger, suppressed, PerSecond);
        }

        return true;
    }

    /// <summary>
    /// Puts <paramref name="logger"/>'s refusal lines written through <see cref="Log"/> by code that
    /// holds no budget of its own (the admission endpoint's events 62 and 63) under this budget.
    /// A logger factory hands out one logger per category, so attaching it once covers every request.
    /// </summary>
    public void Attach(ILogger logger) => Attached.AddOrUpdate(logger, this);

    /// <summary>
    /// The budget attached to <paramref name="logger"/>; a logger nobody attached one to gets its own
    /// (the same limits, on the system clock): a refusal line is never outside a budget.
    /// </summary>
    internal static RefusalLogBudget Of(ILogger logger) => Attached.GetValue(logger, _ => new RefusalLogBudget(TimeProvider.System));

    private static readonly ConditionalWeakTable<ILogger, RefusalLogBudget> Attached = new();

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
