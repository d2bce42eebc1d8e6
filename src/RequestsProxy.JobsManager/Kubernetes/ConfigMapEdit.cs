namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// What one attempt of a <see cref="ConfigMapUpdater"/> change decided: the value to report, and
/// the key's new content, or null when nothing needs writing.
/// </summary>
internal readonly record struct ConfigMapEdit<T>(T Result, string? Content);
