using System.Text;
using k8s;

namespace RequestsProxy.Cluster.Tests.Infrastructure;

/// <summary>Acting as a service account: the token Secret the 1.20 token controller made for it, and a client that uses it.</summary>
public static class ServiceAccountTokens
{
    /// <summary>The name of the token Secret the token controller made for an account, once it exists.</summary>
    public static async Task<string> SecretNameAsync(ClusterFixture cluster, string ns, string account, TimeSpan limit)
    {
        string? name = null;
        await Wait.UntilAsync($"the token Secret of {ns}/{account}", limit, async () =>
        {
            var sa = await cluster.Client.CoreV1.ReadNamespacedServiceAccountAsync(account, ns);
            name = sa.Secrets?.FirstOrDefault()?.Name;
            return name is not null;
        });
        return name!;
    }

    /// <summary>A client of the cluster's apiserver that authenticates with <paramref name="account"/>'s own token.</summary>
    public static async Task<IKubernetes> ClientAsAsync(ClusterFixture cluster, string ns, string account, TimeSpan limit)
    {
        var secret = await cluster.Client.CoreV1.ReadNamespacedSecretAsync(await SecretNameAsync(cluster, ns, account, limit), ns);
        var admin = KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.Kubeconfig);
        return new k8s.Kubernetes(new KubernetesClientConfiguration
        {
            Host = admin.Host,
            SslCaCerts = admin.SslCaCerts,
            SkipTlsVerify = admin.SkipTlsVerify,
            AccessToken = Encoding.UTF8.GetString(secret.Data["token"]),
        });
    }
}
