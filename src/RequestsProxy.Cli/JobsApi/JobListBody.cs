namespace RequestsProxy.Cli.JobsApi;

/// <summary>The body of <c>GET /v1/jobs</c>.</summary>
internal sealed record JobListBody(IReadOnlyList<JobBody> Jobs);
