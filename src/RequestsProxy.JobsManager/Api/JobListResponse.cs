namespace RequestsProxy.JobsManager.Api;

/// <summary>The body of <c>GET /v1/jobs</c>.</summary>
internal sealed record JobListResponse(IReadOnlyList<JobResponse> Jobs);
