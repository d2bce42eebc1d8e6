namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>Names, labels and paths shared by the Kubernetes runtime, the chart and its NetworkPolicy.</summary>
internal static class KubernetesNames
{
    /// <summary>The chart's NetworkPolicy selects training pods by this label: their only way out is the proxy.</summary>
    public const string TrainingJobLabel = "requests-proxy.io/training-job";

    public const string JobNameLabel = "requests-proxy.io/job";
    public const string ReleaseLabel = "requests-proxy.io/release";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "requests-proxy-jobs-manager";

    public const string KidAnnotation = "requests-proxy.io/token-kid";
    public const string JtiAnnotation = "requests-proxy.io/token-jti";
    public const string ExpiresAnnotation = "requests-proxy.io/token-expires-at";

    /// <summary>The token Secret is mounted as a folder (not subPath) so the kubelet refreshes the file in place.</summary>
    public const string TokenMountPath = "/var/run/requests-proxy/token";
    public const string TokenKey = "token";
    public const string TokenFile = TokenMountPath + "/" + TokenKey;

    public const string ContainerName = "training";
    public const string TokenVolume = "requests-proxy-token";
    public const string TmpVolume = "requests-proxy-tmp";

    /// <summary>The non-root user of distroless/chiseled images.</summary>
    public const long NonRootUser = 65532;

    public static string TokenSecretName(string job) => job + "-requests-proxy-token";

    public static Dictionary<string, string> Labels(string job, string? release)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [TrainingJobLabel] = "true",
            [JobNameLabel] = job,
            [ManagedByLabel] = ManagedByValue,
        };
        if (release is not null)
        {
            labels[ReleaseLabel] = release;
        }

        return labels;
    }

    /// <summary>Selects the jobs of this jobs-manager (and release), not other workloads of the namespace.</summary>
    public static string Selector(string? release) =>
        $"{TrainingJobLabel}=true,{ManagedByLabel}={ManagedByValue}" + (release is null ? "" : $",{ReleaseLabel}={release}");
}
