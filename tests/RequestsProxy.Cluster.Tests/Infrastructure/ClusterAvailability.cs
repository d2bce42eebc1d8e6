namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>
/// Whether this machine runs the real-cluster tier. It runs wherever it can (root on Linux: it
/// starts dockerd, a kubelet and iptables rules); <c>REQUESTS_PROXY_CLUSTER_TESTS=off</c> skips it.
/// </summary>
internal static class ClusterAvailability
{
    public const string Variable = "REQUESTS_PROXY_CLUSTER_TESTS";

    public static string? SkipReason { get; } = Compute();

    private static string? Compute()
    {
        if (string.Equals(Environment.GetEnvironmentVariable(Variable), "off", StringComparison.OrdinalIgnoreCase))
        {
            return $"REAL-CLUSTER TIER SKIPPED: {Variable}=off (unset it to run the chart, OPS-1, RBAC and rotation on a real Kubernetes node)";
        }

        if (!OperatingSystem.IsLinux())
        {
            return "REAL-CLUSTER TIER SKIPPED: this machine cannot run it (tests/cluster/up needs Linux)";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "REAL-CLUSTER TIER SKIPPED: this machine cannot run it (tests/cluster/up needs root: it runs dockerd, a kubelet and iptables)";
        }

        return null;
    }
}
