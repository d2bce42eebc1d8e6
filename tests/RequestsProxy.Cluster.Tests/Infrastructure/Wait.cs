using System.Diagnostics;
using Xunit.Sdk;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>Bounded polling: every wait in this tier has a limit and names what it waited for.</summary>
public static class Wait
{
    public static async Task<TimeSpan> UntilAsync(string what, TimeSpan limit, Func<Task<bool>> condition, TimeSpan? poll = null)
    {
        var stopwatch = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return stopwatch.Elapsed;
                }
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException or IOException)
            {
                last = e;
            }

            if (stopwatch.Elapsed > limit)
            {
                throw new XunitException($"timed out after {limit.TotalSeconds:0} s waiting for {what}{(last is null ? "" : $" (last error: {last.Message})")}");
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>True when <paramref name="read"/> answers 404: the object is gone (deleted, or garbage-collected).</summary>
    public static async Task<bool> IsGoneAsync(Func<Task> read)
    {
        try
        {
            await read();
            return false;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return true;
        }
    }
}
