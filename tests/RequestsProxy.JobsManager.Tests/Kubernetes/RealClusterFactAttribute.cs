namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>A test that needs a real cluster: skipped unless K8S_E2E_KUBECONFIG names a kubeconfig (never in CI).</summary>
public sealed class RealClusterFactAttribute : FactAttribute
{
    public const string Variable = "K8S_E2E_KUBECONFIG";

    public RealClusterFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"real-cluster suite: set {Variable} to a kubeconfig to run it (see docs/jobs-manager.md)";
        }
    }
}
