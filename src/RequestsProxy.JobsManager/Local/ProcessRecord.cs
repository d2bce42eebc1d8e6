namespace RequestsProxy.JobsManager.Local;

/// <summary>A local job's process as <c>process.json</c> keeps it: enough to find it again, and to tell a reused pid apart.</summary>
internal sealed record ProcessRecord(int Pid, long StartedAtUnixMs);
