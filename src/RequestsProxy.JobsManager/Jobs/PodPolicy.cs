namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The relaxations of the hardened pod an operator allows in job templates (chart values
/// <c>jobsManager.podPolicy</c>). Everything else the validator refuses stays refused.
/// </summary>
/// <param name="AllowedSysctls">
/// Sysctls beyond Kubernetes' safe set a template may set: names, or prefixes ending in <c>*</c>
/// (<c>kernel.msg*</c>), as the kubelet's <c>--allowed-unsafe-sysctls</c> takes them.
/// </param>
/// <param name="AllowTolerateAll">
/// A toleration without a key (<c>operator: Exists</c>): it tolerates every taint (of its effect, or of
/// all), the control-plane's and every dedicated pool's included.
/// </param>
/// <param name="AllowControlPlaneNodes">
/// Tolerations of the control-plane taints (<see cref="ControlPlaneTaints"/>) and node selection
/// (<c>nodeSelector</c>, node affinity, required or preferred) of the control-plane labels.
/// </param>
internal sealed record PodPolicy(
    bool AllowRunAsRoot = false,
    bool AllowWritableRootFilesystem = false,
    IReadOnlyList<string>? AllowedCapabilities = null,
    IReadOnlyList<string>? AllowedSysctls = null,
    bool AllowTolerateAll = false,
    bool AllowControlPlaneNodes = false)
{
    public static readonly PodPolicy Strict = new();

    /// <summary>
    /// The labels kubeadm (and most distributions) put on control-plane nodes — <c>master</c> before Kubernetes 1.20,
    /// still set by some — and Rancher RKE's <c>controlplane</c> and <c>etcd</c> (finding A11: an RKE toleration got a 201).
    /// </summary>
    public static readonly IReadOnlyList<string> ControlPlaneLabels =
        ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master", "node-role.kubernetes.io/controlplane", "node-role.kubernetes.io/etcd"];

    /// <summary>
    /// The taints that keep workloads off control-plane and system nodes: kubeadm's two (the same keys as the
    /// labels), and <c>CriticalAddonsOnly</c> (system node pools of AKS, k3s servers, and Cluster Autoscaler's docs).
    /// </summary>
    public static readonly IReadOnlyList<string> ControlPlaneTaints = [.. ControlPlaneLabels, "CriticalAddonsOnly"];

    public IReadOnlyList<string> Capabilities => AllowedCapabilities ?? [];

    public IReadOnlyList<string> Sysctls => AllowedSysctls ?? [];

    /// <summary>Whether the operator allows this sysctl beyond the safe set (an exact name, or a <c>prefix*</c> pattern).</summary>
    public bool AllowsSysctl(string name) =>
        Sysctls.Any(allowed => allowed.EndsWith('*') ? name.StartsWith(allowed[..^1], StringComparison.Ordinal) : name == allowed);
}
