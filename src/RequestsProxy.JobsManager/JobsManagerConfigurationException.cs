namespace RequestsProxy.JobsManager;

/// <summary>The settings cannot run a jobs-manager; the message lists every problem found.</summary>
public sealed class JobsManagerConfigurationException(IReadOnlyList<string> errors)
    : InvalidOperationException("invalid jobs-manager configuration: " + string.Join("; ", errors));
