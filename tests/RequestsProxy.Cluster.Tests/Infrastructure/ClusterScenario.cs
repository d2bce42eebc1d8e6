using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>
/// The frame every real-cluster test runs in: a release of its own in a fresh namespace, the
/// upstream deployed there (unless the test needs only the authorizer), a report printed to the
/// test output and, when named, kept under reports/ whether the test passed or failed (a failed
/// run's numbers are the ones worth reading), the namespaces dumped when the body throws, and
/// deleted at the end whatever happened.
/// </summary>
public sealed class ClusterScenario
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromMinutes(3);

    private ClusterScenario(ClusterFixture cluster, ChartRelease release)
    {
        Cluster = cluster;
        Release = release;
    }

    public ClusterFixture Cluster { get; }

    public ChartRelease Release { get; }

    public StringBuilder Report { get; } = new();

    /// <param name="prefix">The release name's prefix; a random suffix keeps runs apart.</param>
    /// <param name="reportName">When set, the report is kept as reports/&lt;name&gt;-&lt;UTC time&gt;.txt.</param>
    /// <param name="withUpstream">False for tests that only ask the authorizer (no pod needs to run).</param>
    public static async Task RunAsync(
        ClusterFixture cluster, ITestOutputHelper output, string prefix, Func<ClusterScenario, Task> body,
        string? reportName = null, bool withUpstream = true)
    {
        cluster.EnsureUp();
        var scenario = new ClusterScenario(cluster, new ChartRelease(cluster, $"{prefix}-{Guid.NewGuid().ToString("N")[..6]}"));
        await scenario.Release.CreateNamespaceAsync();
        try
        {
            if (withUpstream)
            {
                await Workloads.DeployUpstreamAsync(cluster, scenario.Release.Namespace);
            }

            await body(scenario);
        }
        catch
        {
            scenario.Report.AppendLine("FAILED (the namespaces' dump follows in the test output)");
            WriteReport(scenario, output, reportName);
            await cluster.DumpAsync(scenario.Release.Namespace, output);
            throw;
        }
        finally
        {
            await scenario.Release.DeleteNamespaceAsync();
        }

        WriteReport(scenario, output, reportName);
    }

    /// <summary>
    /// Runs one disruption under load, waits until the proxy Deployment is whole again and every
    /// trainer made progress, and reports the step's counts; returns the tallies after it.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, TrainerTally>> StepAsync(
        string name, TrainerFleet fleet, IReadOnlyDictionary<string, TrainerTally> before, Func<Task> disrupt)
    {
        var stopwatch = Stopwatch.StartNew();
        await disrupt();
        await Release.WaitForDeploymentAsync(Release.ProxyName, StepLimit);
        var ready = stopwatch.Elapsed;
        var after = await fleet.WaitForProgressAsync(before, 10, StepLimit);
        var (delta, prior) = (TrainerFleet.Sum(after), TrainerFleet.Sum(before));
        Report.AppendLine($"{name}: proxies Ready again after {ready.TotalSeconds:0.0} s; during the step " +
            $"requests={delta.Requests - prior.Requests} 401={delta.Unauthorized - prior.Unauthorized} " +
            $"connection_errors={delta.ConnectionErrors - prior.ConnectionErrors} other={delta.Other - prior.Other}");
        return after;
    }

    /// <summary>Deletes the proxy pod that sorts first by name and waits until it is replaced.</summary>
    public async Task DeleteFirstProxyPodAsync()
    {
        var pod = (await Release.ProxyPodsAsync()).Select(p => p.Metadata.Name).Order().First();
        await Release.DeleteProxyPodsAsync(StepLimit, pod);
    }

    private static void WriteReport(ClusterScenario scenario, ITestOutputHelper output, string? reportName)
    {
        var text = scenario.Report.ToString();
        output.WriteLine(text);
        if (reportName is not null)
        {
            var dir = Directory.CreateDirectory(Path.Combine(scenario.Cluster.CacheDirectory, "reports"));
            File.WriteAllText(Path.Combine(dir.FullName, $"{reportName}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.txt"), text);
        }
    }
}
