namespace RequestsProxy.Cli.JobsApi;

/// <summary>The body of <c>DELETE /v1/jobs/{name}</c>; <see cref="Known"/> is false when there was no such job (stop is idempotent).</summary>
internal sealed record StopJobBody(string Name, bool Stopped, bool Known, int Revoked);
