namespace RequestsProxy.JobsManager.Jobs;

/// <summary>Makes the stores the jobs-manager writes exist before it reads them (the Kubernetes runtime's ConfigMaps).</summary>
internal interface IStoreProvisioner
{
    /// <summary>Why a store does not exist yet and could not be created; null once every one exists.</summary>
    string? Problem { get; }

    /// <summary>Creates what is missing, never touching what exists; false (with <see cref="Problem"/>) when something could not be.</summary>
    Task<bool> EnsureAsync(CancellationToken cancellationToken);
}
