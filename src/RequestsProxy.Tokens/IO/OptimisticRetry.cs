namespace RequestsProxy.Tokens.IO;

/// <summary>
/// The one retry policy for optimistic concurrency — a read → change → write that the store
/// refuses when someone else wrote in between (a Kubernetes 409 on a stale resourceVersion): the
/// whole attempt runs again on fresh content after a full-jitter exponential backoff, so
/// concurrent writers spread out instead of colliding again, up to a bounded number of attempts;
/// the last conflict is thrown to the caller. Used by the jobs-manager's ConfigMap writes and by
/// rpctl's key-Secret writes.
/// </summary>
public sealed class OptimisticRetry
{
    public static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(20);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;

    public OptimisticRetry(int maxAttempts, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        MaxAttempts = maxAttempts;
        _time = time;
    }

    public int MaxAttempts { get; }

    /// <param name="attempt">One read → change → write, given the attempt number (from 1).</param>
    /// <param name="isConflict">Whether an exception means "changed meanwhile: read again".</param>
    /// <param name="onConflict">Told of each retried conflict and the delay before the next attempt.</param>
    public async Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> attempt, Func<Exception, bool> isConflict,
        Action<int, TimeSpan>? onConflict, CancellationToken cancellationToken)
    {
        for (var number = 1; ; number++)
        {
            try
            {
                return await attempt(number, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (number < MaxAttempts && isConflict(e))
            {
                var delay = Backoff(number);
                onConflict?.Invoke(number, delay);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Between half and all of min(<see cref="MaxDelay"/>, <see cref="BaseDelay"/> · 2^(attempt−1)).</summary>
    public static TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 10)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }
}
