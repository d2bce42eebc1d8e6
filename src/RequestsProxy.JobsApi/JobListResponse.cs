namespace RequestsProxy.JobsApi;

/// <summary>The body of <c>GET /v1/jobs</c>.</summary>
public sealed record JobListResponse(IReadOnlyList<JobResponse> Jobs);
