using System.Net;
using RequestsProxy.Server.Admission;

namespace RequestsProxy.Server.Tests.Admission;

public sealed class FairReviewGateTests
{
    private static readonly IPAddress Slow = IPAddress.Parse("10.0.0.66");
    private static readonly IPAddress Apiserver = IPAddress.Parse("10.0.0.1");

    [Fact]
    public async Task Acquire_FreedSlot_GoesToTheNextAddressNotTheOldestWaiter()
    {
        var gate = new FairReviewGate(slots: 1, queuedPerAddress: 10, queuedInAll: 20);
        var held = await gate.AcquireAsync(Slow, CancellationToken.None);
        var slowWaiters = Enumerable.Range(0, 5).Select(_ => gate.AcquireAsync(Slow, CancellationToken.None).AsTask()).ToList();
        var review = gate.AcquireAsync(Apiserver, CancellationToken.None).AsTask();

        held!.Dispose();
        var first = await slowWaiters[0];
        first!.Dispose();

        // One turn for the slow address, then the apiserver's, though four slow ones queued before it.
        var granted = await review.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(granted);
        Assert.False(slowWaiters[1].IsCompleted);
        granted.Dispose();
        for (var i = 1; i < slowWaiters.Count; i++)
        {
            (await slowWaiters[i].WaitAsync(TimeSpan.FromSeconds(5)))!.Dispose();
        }
    }

    [Fact]
    public async Task Acquire_QueueOfAnAddressFull_NullForItOnly()
    {
        var gate = new FairReviewGate(slots: 1, queuedPerAddress: 2, queuedInAll: 3);
        using var held = await gate.AcquireAsync(Slow, CancellationToken.None);
        var waiting = new[] { gate.AcquireAsync(Slow, CancellationToken.None).AsTask(), gate.AcquireAsync(Slow, CancellationToken.None).AsTask() };

        Assert.Null(await gate.AcquireAsync(Slow, CancellationToken.None));
        var other = gate.AcquireAsync(Apiserver, CancellationToken.None).AsTask();
        Assert.False(other.IsCompleted);
        Assert.Null(await gate.AcquireAsync(IPAddress.Parse("10.0.0.2"), CancellationToken.None));
        GC.KeepAlive(waiting);
    }

    [Fact]
    public async Task Acquire_CancelledWhileWaiting_GivesUpItsPlace()
    {
        var gate = new FairReviewGate(slots: 1, queuedPerAddress: 1, queuedInAll: 1);
        var held = await gate.AcquireAsync(Slow, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.AcquireAsync(Slow, cancel.Token).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        held!.Dispose();

        // Nothing queued and the slot free: taken at once.
        var next = gate.AcquireAsync(Apiserver, CancellationToken.None);
        Assert.True(next.IsCompleted);
        (await next)!.Dispose();
    }
}
