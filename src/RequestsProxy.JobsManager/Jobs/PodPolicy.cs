namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The relaxations of the hardened pod an operator allows in job templates (chart values
/// <c>jobsManager.podPolicy</c>). Everything else the validator refuses stays refused.
/// </summary>
/// <param name="AllowedSysctls">
/// Sysctls beyond Kubernetes' safe set a template may set: names, or prefixes ending in <c>*</c>
/// (<c>kernel.msg*</c>), as the kubelet's <c>--allowed-unsafe-sysctls</c> takes them.
/// </param>
internal sealed record PodPolicy(
    bool AllowRunAsRoot = false,
    bool AllowWritableRootFilesystem = false,
    IReadOnlyList<string>? AllowedCapabilities = null,
    IReadOnlyList<string>? AllowedSysctls = null)
{
    public static readonly PodPolicy Strict = new();

    public IReadOnlyList<string> Capabilities => AllowedCapabilities ?? [];

    public IReadOnlyList<string> Sysctls => AllowedSysctls ?? [];

    /// <summary>Whether the operator allows this sysctl beyond the safe set (an exact name, or a <c>prefix*</c> pattern).</summary>
    public bool AllowsSysctl(string name) =>
        Sysctls.Any(allowed => allowed.EndsWith('*') ? name.StartsWith(allowed[..^1], StringComparison.Ordinal) : name == allowed);
}
