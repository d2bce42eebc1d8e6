using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.JobsManager.Api;

/// <summary>The admin API: start, stop, list jobs and key usage, all behind the admin bearer token.</summary>
internal static class JobsEndpoints
{
    /// <summary>A start request is a few kilobytes; anything far larger is a mistake or an attack.</summary>
    public const long MaxBodyBytes = 256 * 1024;

    public static void MapJobsApi(this IEndpointRouteBuilder routes)
    {
        var v1 = routes.MapGroup("/v1").AddEndpointFilter<AdminAuthorizationFilter>();
        v1.MapPost("/jobs", StartAsync);
        v1.MapGet("/jobs", List);
        v1.MapGet("/jobs/{name}", Get);
        v1.MapDelete("/jobs/{name}", StopAsync);
        v1.MapGet("/keys/usage", Usage);
    }

    private static async Task<IResult> StartAsync(HttpContext http, JobManager jobs, JobsManagerOptions options, CancellationToken cancellationToken)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        if (!http.Request.HasJsonContentType())
        {
            return ApiResults.Error(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type", "the body must be JSON (Content-Type: application/json)");
        }

        StartJobRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(http.Request.Body, JobsJsonContext.Default.StartJobRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_json", $"the body is not a valid start request: {JsonErrorText.Describe(e)}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ApiResults.Error(StatusCodes.Status413PayloadTooLarge, "too_large", $"the body may be at most {MaxBodyBytes} bytes");
        }

        var namespaces = options.Runtime == JobRuntimeKind.Kubernetes ? options.EffectiveJobNamespaces : null;
        var (spec, errors) = StartJobRequestValidator.Validate(request, options.DefaultScope, namespaces, options.PodPolicy, options.Runtime == JobRuntimeKind.Kubernetes ? options.Namespace : null);
        if (spec is null)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_request", string.Join("; ", errors));
        }

        var result = await jobs.StartAsync(spec, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return Fail(result.Error, result.Message!);
        }

        http.Response.Headers.Location = $"/v1/jobs/{spec.Name}";
        return ApiResults.Json(ApiText.Job(result.Value!), JobsJsonContext.Default.JobResponse, StatusCodes.Status201Created);
    }

    private static IResult List(JobManager jobs) =>
        ApiResults.Json(new JobListResponse([.. jobs.List().Select(ApiText.Job)]), JobsJsonContext.Default.JobListResponse);

    private static IResult Get(string name, JobManager jobs) =>
        jobs.Get(name) is { } job
            ? ApiResults.Json(ApiText.Job(job), JobsJsonContext.Default.JobResponse)
            : ApiResults.Error(StatusCodes.Status404NotFound, "not_found", $"no job named '{name}'");

    private static async Task<IResult> StopAsync(string name, JobManager jobs, CancellationToken cancellationToken)
    {
        // Nothing that could not name a job reaches the runtime (a Kubernetes delete, a local path).
        if (!StartJobRequestValidator.IsJobName(name))
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "invalid_request", $"no job can be named '{name}': a job name {StartJobRequestValidator.NameRule}");
        }

        var result = await jobs.StopAsync(name, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return Fail(result.Error, result.Message!);
        }

        var outcome = result.Value!;
        return ApiResults.Json(new StopJobResponse(outcome.Name, Stopped: true, outcome.Known, outcome.Revoked, outcome.UnconfirmedReplicas ?? []), JobsJsonContext.Default.StopJobResponse);
    }

    private static IResult Usage(JobManager jobs, JobsManagerOptions options, [FromServices] IKeyRingSource? keys)
    {
        var usage = jobs.KeyUsage(keys?.Current?.Kids ?? []);
        return ApiResults.Json(ApiText.KeyUsage(usage, options.TokenLifetime, options.Leeway), JobsJsonContext.Default.KeyUsageResponse);
    }

    private static IResult Fail(JobError error, string message)
    {
        var (status, code) = ApiText.Error(error);
        return ApiResults.Error(status, code, message);
    }
}
