using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Jobs;

public sealed class JobTableTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TryAdd_NewJob_HoldsItsGateUntilDisposed()
    {
        var table = new JobTable();
        var job = new JobRecord(CoreHarness.Spec("job-1"), Now);
        using (var lease = table.TryAdd(job))
        {
            Assert.NotNull(lease);
            Assert.Null(table.TryLock(job));
        }

        using var again = table.TryLock(job);
        Assert.NotNull(again);
    }

    [Fact]
    public void TryAdd_NameTaken_ReturnsNullAndKeepsTheFirst()
    {
        var table = new JobTable();
        var first = new JobRecord(CoreHarness.Spec("job-1"), Now);
        table.TryAdd(first)!.Dispose();

        Assert.Null(table.TryAdd(new JobRecord(CoreHarness.Spec("job-1"), Now)));
        Assert.True(table.TryGet("job-1", out var listed));
        Assert.Same(first, listed);
    }

    [Fact]
    public void Remove_UnderLease_ForgetsOnlyThatRecordAndMarksItRemoved()
    {
        var table = new JobTable();
        var old = new JobRecord(CoreHarness.Spec("job-1"), Now);
        var oldLease = table.TryAdd(old)!;
        table.Remove(oldLease);
        oldLease.Dispose();
        var newer = new JobRecord(CoreHarness.Spec("job-1"), Now);
        table.TryAdd(newer)!.Dispose();

        using (var stale = table.TryLock(old)!)
        {
            table.Remove(stale);
        }

        Assert.True(old.Removed);
        Assert.True(table.TryGet("job-1", out var listed));
        Assert.Same(newer, listed);
    }

    [Fact]
    public void Dispose_Twice_ReleasesTheGateOnce()
    {
        var table = new JobTable();
        var job = new JobRecord(CoreHarness.Spec("job-1"), Now);
        var lease = table.TryAdd(job)!;
        lease.Dispose();
        lease.Dispose();

        using var first = table.TryLock(job);
        Assert.NotNull(first);
        Assert.Null(table.TryLock(job));
        Assert.Throws<ObjectDisposedException>(() => lease.Job);
    }

    [Fact]
    public async Task SyncStates_JobGateBusy_SkipsItUntilTheNextPass()
    {
        using var h = new CoreHarness();
        await h.StartAsync("job-1");
        ((InMemoryJobRuntime)h.Runtime).States["job-1"] = JobState.Succeeded;
        var table = h.Manager.Table;
        Assert.True(table.TryGet("job-1", out var job));

        using (table.TryLock(job))
        {
            await h.Manager.SyncStatesAsync(CancellationToken.None);
            Assert.NotEqual(JobState.Succeeded, h.Manager.Get("job-1")!.State);
        }

        await h.Manager.SyncStatesAsync(CancellationToken.None);
        Assert.Equal(JobState.Succeeded, h.Manager.Get("job-1")!.State);
    }

}
