namespace RequestsProxy.JobsApi;

/// <summary>The body of <c>DELETE /v1/jobs/{name}</c>: the same shape whether or not the job was known (idempotent).</summary>
public sealed record StopJobResponse(string Name, bool Stopped, bool Known, int Revoked);
