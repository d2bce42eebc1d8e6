using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// The admission port: one path per resource (<see cref="IAdmissionPolicy.Path"/>: secrets, jobs, pods,
/// configmaps), an AdmissionReview in, the policy's verdict out. A body that is no AdmissionReview v1
/// is a 400 (the apiserver then applies the webhook's <c>failurePolicy: Fail</c>), never a 500.
/// </summary>
internal static class AdmissionEndpoints
{
    public const string SecretsPath = "/admission/v1/secrets";
    public const string JobsPath = "/admission/v1/jobs";
    public const string PodsPath = "/admission/v1/pods";
    public const string ConfigMapsPath = "/admission/v1/configmaps";

    /// <summary>
    /// Two Secrets of at most 1 MiB each (object and oldObject), base64 in JSON, are about 2.7 MiB:
    /// 3 MiB fits them, whatever the relay's body limit is, and no more — the review needs no
    /// credential, so its size is what an unauthenticated caller can make each proxy hold.
    /// </summary>
    public const long MaxReviewBytes = 3 * 1024 * 1024;

    /// <summary>Reviews judged at once per proxy pod (bodies read into memory at once); the apiserver sends them one per write, so a handful is plenty.</summary>
    public const int ConcurrentReviews = 4;

    /// <summary>
    /// Reviews that may wait for a slot, in all and per client address; beyond them a 429 (the apiserver applies
    /// failurePolicy: Fail). A waiting review holds a connection (or an HTTP/2 stream) and at most Kestrel's 16 KiB
    /// of unread input, no body; slots go to the addresses in turn (<see cref="FairReviewGate"/>), so the
    /// apiserver's reviews wait for one turn behind slow senders (each cut at the body deadline), not for all of them.
    /// </summary>
    public const int QueuedReviews = 256;

    public const int QueuedReviewsPerAddress = 64;

    /// <summary>Kestrel measures a body's rate only after a grace period longer than its 1 s heartbeat.</summary>
    private static readonly TimeSpan MinBodyRateGrace = TimeSpan.FromSeconds(1.5);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        AllowDuplicateProperties = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static void Map(WebApplication app)
    {
        // One gate per app, for every path: bounds what a flood of large reviews (from anything that reaches the port) can make a pod hold in memory.
        var gate = new FairReviewGate(ConcurrentReviews, QueuedReviewsPerAddress, QueuedReviews);
        var settings = app.Services.GetRequiredService<ProxySettings>();
        var body = new BodyLimits(settings.AdmissionBodyTimeout,
            settings.AdmissionMinBodyBytesPerSecond > 0 ? new MinDataRate(settings.AdmissionMinBodyBytesPerSecond, MinBodyRateGrace) : null);
        foreach (var policy in app.Services.GetServices<IAdmissionPolicy>())
        {
            app.MapPost(policy.Path, (HttpContext context, ProxyMetrics metrics, ILoggerFactory loggers) =>
                    GatedReviewAsync(gate, body, context, policy, metrics, loggers))
                .WithMetadata(AdmissionEndpoint.Instance, new RequestSizeLimitAttribute(MaxReviewBytes));
        }
    }

    private static async Task GatedReviewAsync(FairReviewGate gate, BodyLimits body, HttpContext context, IAdmissionPolicy policy, ProxyMetrics metrics, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("RequestsProxy.Server.Admission");
        using var lease = await gate.AcquireAsync(context.Connection.RemoteIpAddress, context.RequestAborted);
        if (lease is null)
        {
            metrics.AdmissionReviewed("busy", "none");
            context.Response.Headers.RetryAfter = "1";
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.Response.WriteAsJsonAsync(new { error = "busy", message = $"more than {ConcurrentReviews + QueuedReviews} admission reviews at once, or {QueuedReviewsPerAddress} waiting from {context.Connection.RemoteIpAddress}" }, Json, context.RequestAborted);
            return;
        }

        // The slot is held while the body arrives: a deadline (and, on HTTP/1.1, a minimum rate) bounds how long a
        // trickling sender holds it (finding A3), so the apiserver's reviews queued behind get it within the deadline.
        if (body.MinRate is not null && HttpProtocol.IsHttp11(context.Request.Protocol) && context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = body.MinRate;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(body.Timeout);
        await ReviewAsync(context, policy, metrics, logger, body, deadline.Token);
    }

    private sealed record BodyLimits(TimeSpan Timeout, MinDataRate? MinRate);

    private static async Task ReviewAsync(HttpContext context, IAdmissionPolicy policy, ProxyMetrics metrics, ILogger logger, BodyLimits body, CancellationToken bodyDeadline)
    {
        AdmissionReview? review;
        try
        {
            review = await JsonSerializer.DeserializeAsync<AdmissionReview>(context.Request.Body, Json, bodyDeadline);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Cut without an answer: a read cancelled mid-body leaves Kestrel's body reader busy, so the connection cannot
            // be reused or drained; the sender is not the apiserver (its review arrives in one burst, 5 s before it gives up).
            metrics.AdmissionReviewed("slow", "none");
            Log.AdmissionMalformed(logger, StatusCodes.Status408RequestTimeout, $"the review's body did not arrive within {body.Timeout.TotalSeconds:0.#} s: connection closed");
            context.Abort();
            return;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            await SlowAsync(context, metrics, logger, $"the review's body arrived slower than {body.MinRate?.BytesPerSecond} bytes/s: {e.Message}");
            return;
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
            Log.AdmissionDenied(logger, request.Operation!, policy.Kind, request.Namespace, request.Name, request.UserInfo?.Username, decision.Rule, request.DryRun == true);
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

    /// <summary>A sender cut at the minimum rate: Kestrel has already stopped reading; a 408, and the connection closed after it, so it holds nothing more.</summary>
    private static async Task SlowAsync(HttpContext context, ProxyMetrics metrics, ILogger logger, string problem)
    {
        metrics.AdmissionReviewed("slow", "none");
        Log.AdmissionMalformed(logger, StatusCodes.Status408RequestTimeout, problem);
        if (!context.Response.HasStarted)
        {
            context.Response.Headers.Connection = "close";
            context.Response.StatusCode = StatusCodes.Status408RequestTimeout;
            await context.Response.WriteAsJsonAsync(new { error = "slow_review", message = problem }, Json, CancellationToken.None);
        }
    }

    private static Task MalformedAsync(HttpContext context, ProxyMetrics metrics, ILogger logger, string problem, int status = StatusCodes.Status400BadRequest)
    {
        metrics.AdmissionReviewed("malformed", "none");
        Log.AdmissionMalformed(logger, status, problem);
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = "malformed_review", message = problem }, Json, context.RequestAborted);
    }
}
