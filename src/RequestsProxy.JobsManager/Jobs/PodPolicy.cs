namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The relaxations of the hardened pod an operator allows in job templates (chart values
/// <c>jobsManager.podPolicy</c>). Everything else the validator refuses stays refused.
/// </summary>
internal sealed record PodPolicy(bool AllowRunAsRoot = false, bool AllowWritableRootFilesystem = false, IReadOnlyList<string>? AllowedCapabilities = null)
{
    public static readonly PodPolicy Strict = new();

    public IReadOnlyList<string> Capabilities => AllowedCapabilities ?? [];
}
