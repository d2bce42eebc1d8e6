namespace RequestsProxy.JobsManager;

/// <summary>Where training jobs run.</summary>
internal enum JobRuntimeKind
{
    /// <summary>Child processes of the jobs-manager, token files on local disk (laptop, demo, tests).</summary>
    Local,

    /// <summary>batch/v1 Jobs through the Kubernetes API.</summary>
    Kubernetes,
}
