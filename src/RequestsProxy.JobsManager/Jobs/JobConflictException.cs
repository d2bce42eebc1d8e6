namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The runtime already has a job of that name (for example one started before a restart).</summary>
internal sealed class JobConflictException(string message) : Exception(message);
