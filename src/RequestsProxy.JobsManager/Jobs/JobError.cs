namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The closed set of reasons an operation of the core fails (each maps to one HTTP status).</summary>
internal enum JobError
{
    None,

    /// <summary>The request is malformed or the runtime cannot run it (400).</summary>
    Invalid,

    /// <summary>A job of that name exists (409).</summary>
    Conflict,

    /// <summary>No key ring / admin token yet (503).</summary>
    NotReady,

    /// <summary>The runtime, the revocation store or the proxy failed (502); the operation can be retried.</summary>
    Backend,

    /// <summary>A stored list is full (507): retrying does not help until jobs are stopped or entries end.</summary>
    Full,
}
