using System.Text;
using Xunit.Sdk;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>Trainer jobs started through the jobs-manager, and their combined tallies.</summary>
public sealed class TrainerFleet(ClusterFixture cluster, ChartRelease release, IReadOnlyList<string> jobs)
{
    public IReadOnlyList<string> Jobs => jobs;

    public static async Task<TrainerFleet> StartAsync(ClusterFixture cluster, ChartRelease release, JobsManagerApi api, string prefix, int count)
    {
        var jobs = Enumerable.Range(1, count).Select(i => $"{prefix}-{i}").ToList();
        foreach (var job in jobs)
        {
            await api.StartTrainerAsync(job, cluster.WorkloadImage);
        }

        return new TrainerFleet(cluster, release, jobs);
    }

    public async Task<IReadOnlyDictionary<string, TrainerTally>> TalliesAsync()
    {
        var tallies = new Dictionary<string, TrainerTally>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            if (await Workloads.LastTallyAsync(cluster, release.JobsNamespace, job) is { } tally)
            {
                tallies[job] = tally;
            }
        }

        return tallies;
    }

    /// <summary>Waits until every trainer has <paramref name="more"/> more successful posts than in <paramref name="since"/>.</summary>
    public async Task<IReadOnlyDictionary<string, TrainerTally>> WaitForProgressAsync(IReadOnlyDictionary<string, TrainerTally>? since, long more, TimeSpan limit)
    {
        IReadOnlyDictionary<string, TrainerTally> latest = new Dictionary<string, TrainerTally>();
        await Wait.UntilAsync($"{more} more successful posts from each of {string.Join(", ", jobs)}", limit, async () =>
        {
            latest = await TalliesAsync();
            return jobs.All(j => latest.TryGetValue(j, out var t) && t.Ok >= (since is not null && since.TryGetValue(j, out var s) ? s.Ok : 0) + more);
        }, TimeSpan.FromSeconds(1));
        return latest;
    }

    public static Totals Sum(IReadOnlyDictionary<string, TrainerTally> tallies) => new(
        tallies.Values.Sum(t => t.Requests),
        tallies.Values.Sum(t => t.Ok),
        tallies.Values.Sum(t => t.Unauthorized),
        tallies.Values.Sum(t => t.ConnectionErrors),
        tallies.Values.Sum(t => t.Other));

    /// <summary>Fails with every 401 line the trainers printed when any trainer counted one.</summary>
    public async Task AssertNoUnauthorizedAsync(IReadOnlyDictionary<string, TrainerTally> tallies)
    {
        if (tallies.Values.All(t => t.Unauthorized == 0))
        {
            return;
        }

        var text = new StringBuilder("valid tokens were refused (401):\n");
        foreach (var job in jobs)
        {
            foreach (var line in await Workloads.UnauthorizedLinesAsync(cluster, release.JobsNamespace, job))
            {
                text.AppendLine(line);
            }
        }

        throw new XunitException(text.ToString());
    }

    public sealed record Totals(long Requests, long Ok, long Unauthorized, long ConnectionErrors, long Other)
    {
        public override string ToString() => $"requests={Requests} ok={Ok} 401={Unauthorized} connection_errors={ConnectionErrors} other={Other}";
    }
}
