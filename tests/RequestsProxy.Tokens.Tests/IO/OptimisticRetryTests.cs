using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Tests.IO;

public sealed class OptimisticRetryTests
{
    [Fact]
    public async Task RunAsync_ConflictThenSuccess_RetriesOnFreshAttemptAndReportsTheDelay()
    {
        var retry = new OptimisticRetry(5, TimeProvider.System);
        var delays = new List<(int Attempt, TimeSpan Delay)>();

        var result = await retry.RunAsync((attempt, _) => attempt < 3 ? throw new ConflictException() : Task.FromResult(attempt),
            e => e is ConflictException, (attempt, delay) => delays.Add((attempt, delay)), CancellationToken.None);

        Assert.Equal(3, result);
        Assert.Equal([1, 2], delays.Select(d => d.Attempt));
        Assert.All(delays, d => Assert.InRange(d.Delay, OptimisticRetry.BaseDelay / 2, OptimisticRetry.MaxDelay));
    }

    [Fact]
    public async Task RunAsync_EndlessConflicts_ThrowsTheLastAfterMaxAttempts()
    {
        var retry = new OptimisticRetry(4, TimeProvider.System);
        var attempts = 0;

        await Assert.ThrowsAsync<ConflictException>(() => retry.RunAsync<int>((_, _) =>
        {
            attempts++;
            throw new ConflictException();
        }, e => e is ConflictException, null, CancellationToken.None));

        Assert.Equal(4, attempts);
    }

    [Fact]
    public async Task RunAsync_OtherError_NotRetried()
    {
        var retry = new OptimisticRetry(4, TimeProvider.System);
        var attempts = 0;

        await Assert.ThrowsAsync<IOException>(() => retry.RunAsync<int>((_, _) =>
        {
            attempts++;
            throw new IOException("down");
        }, e => e is ConflictException, null, CancellationToken.None));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public void Backoff_GrowsWithAttemptsAndStaysBounded()
    {
        for (var attempt = 1; attempt < 40; attempt++)
        {
            Assert.InRange(OptimisticRetry.Backoff(attempt), TimeSpan.FromMilliseconds(10), OptimisticRetry.MaxDelay);
        }

        Assert.True(OptimisticRetry.Backoff(1) <= OptimisticRetry.BaseDelay);
        Assert.True(OptimisticRetry.Backoff(20) >= OptimisticRetry.MaxDelay / 2);
    }

    private sealed class ConflictException : Exception;
}
