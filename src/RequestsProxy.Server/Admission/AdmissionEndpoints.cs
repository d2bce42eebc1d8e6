using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// <c>POST /admission/v1/secrets</c> on the admission port: an AdmissionReview in, the verdict of
/// <see cref="SecretAdmissionPolicy"/> out. A body that is no AdmissionReview v1 is a 400 (the
/// apiserver then applies the webhook's <c>failurePolicy: Fail</c>), never a 500.
/// </summary>
internal static class AdmissionEndpoints
{
    public const string SecretsPath = "/admission/v1/secrets";

    /// <summary>Two Secrets of at most 1 MiB each, base64 in JSON, fit with room to spare — whatever the relay's body limit is.</summary>
    public const long MaxReviewBytes = 8 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        AllowDuplicateProperties = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Map(WebApplication app) =>
        app.MapPost(SecretsPath, ReviewAsync)
            .WithMetadata(AdmissionEndpoint.Instance, new RequestSizeLimitAttribute(MaxReviewBytes));

    private static async Task ReviewAsync(HttpContext context, SecretAdmissionPolicy policy, ProxyMetrics metrics, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("RequestsProxy.Server.Admission");
        AdmissionReview? review;
        try
        {
            review = await JsonSerializer.DeserializeAsync<AdmissionReview>(context.Request.Body, Json, context.RequestAborted);
        }
        catch (JsonException e)
        {
            await MalformedAsync(context, metrics, logger, $"the body is not an AdmissionReview: {e.Message}");
            return;
        }
        catch (BadHttpRequestException e)
        {
            await MalformedAsync(context, metrics, logger, e.Message, e.StatusCode);
            return;
        }

        if (Problem(review) is { } problem)
        {
            await MalformedAsync(context, metrics, logger, problem);
            return;
        }

        var request = review!.Request!;
        var decision = policy.Decide(request);
        metrics.AdmissionReviewed(decision.Allowed ? "allowed" : "denied", decision.Rule);
        if (!decision.Allowed)
        {
            Log.AdmissionDenied(logger, request.Operation!, request.Namespace, request.Name, request.UserInfo?.Username, decision.Rule, request.DryRun == true);
        }

        var response = new AdmissionReview
        {
            ApiVersion = AdmissionReview.V1,
            Kind = AdmissionReview.ReviewKind,
            Response = new AdmissionResponse
            {
                Uid = request.Uid!,
                Allowed = decision.Allowed,
                Status = decision.Allowed ? null : new AdmissionStatus { Code = StatusCodes.Status403Forbidden, Reason = "Forbidden", Message = decision.Message },
            },
        };
        await context.Response.WriteAsJsonAsync(response, Json, context.RequestAborted);
    }

    private static string? Problem(AdmissionReview? review) => review switch
    {
        null => "the body is JSON null, not an AdmissionReview",
        { ApiVersion: not AdmissionReview.V1 } => $"apiVersion is '{review.ApiVersion}', not {AdmissionReview.V1} (the webhook declares admissionReviewVersions [v1])",
        { Kind: not AdmissionReview.ReviewKind } => $"kind is '{review.Kind}', not {AdmissionReview.ReviewKind}",
        { Request: null } => "the review has no request",
        { Request.Uid: null or "" } => "the request has no uid",
        { Request.Operation: null or "" } => "the request has no operation",
        { Request.UserInfo: null } => "the request has no userInfo",
        _ => null,
    };

    private static Task MalformedAsync(HttpContext context, ProxyMetrics metrics, ILogger logger, string problem, int status = StatusCodes.Status400BadRequest)
    {
        metrics.AdmissionReviewed("malformed", "none");
        Log.AdmissionMalformed(logger, status, problem);
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = "malformed_review", message = problem }, Json, context.RequestAborted);
    }
}
