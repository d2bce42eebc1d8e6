using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace RequestsProxy.Client;

/// <summary>
/// The client contract as one Polly pipeline, outermost first: the deadline of the logical
/// request; one retry of a 401 whose token changed on disk; retries of connection errors and
/// "not now" answers (Retry-After, else capped jittered exponential backoff); the attempt timeout.
/// </summary>
internal static class ContractPipeline
{
    /// <summary>Answers worth the same request again: 429 and 503 say when (Retry-After); 502 and
    /// 504 mean the upstream was not reached or did not answer in time, and the Idempotency-Key
    /// makes repeating a request that did arrive safe.</summary>
    public static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    public static ResiliencePipeline<HttpResponseMessage> Build(RequestsProxyClientOptions options, TokenSource tokens, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time, Name = "requests-proxy-client" };
        builder.AddTimeout(new TimeoutStrategyOptions { Name = "deadline", Timeout = options.Deadline });
        builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            Name = "token-changed",
            MaxRetryAttempts = 1,
            Delay = TimeSpan.Zero,
            BackoffType = DelayBackoffType.Constant,
            ShouldHandle = args => TokenChangedAsync(args.Outcome, tokens, args.Context.CancellationToken),
        });
        builder.AddRetry(new HttpRetryStrategyOptions
        {
            Name = "transient",
            // Unbounded count: the deadline above ends the retries.
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.BackoffBase,
            MaxDelay = options.BackoffCap,
            // Retry-After is read by DelayGenerator below (with our cap and a little jitter).
            ShouldRetryAfterHeader = false,
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, options, time)),
            DelayGenerator = args => ValueTask.FromResult(RetryAfterDelay(args.Outcome.Result, options, time)),
            OnRetry = args =>
            {
                var request = args.Context.GetRequestMessage();
                if (request is not null)
                {
                    request.Options.Set(RequestsProxyHandler.LastRetryDelayOption, args.RetryDelay);
                    if (args.Outcome.Exception is { } error)
                    {
                        request.Options.Set(RequestsProxyHandler.LastErrorOption, error);
                    }
                }

                return ValueTask.CompletedTask;
            },
        });
        builder.AddTimeout(new TimeoutStrategyOptions { Name = "attempt", Timeout = options.AttemptTimeout });
        return builder.Build();
    }

    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, RequestsProxyClientOptions options, TimeProvider time)
    {
        if (context.CancellationToken.IsCancellationRequested)
        {
            return false;
        }

        if (outcome.Exception is { } error)
        {
            // Refused, reset, cut mid-answer (a SIGKILLed proxy) or an attempt that timed out; a
            // configuration error (no token file) is not going to heal by itself.
            return error is HttpRequestException or TimeoutRejectedException or IOException;
        }

        if (outcome.Result is not { } response || !IsRetryable(response.StatusCode))
        {
            return false;
        }

        // A wait that would outlast the deadline is not started: the caller gets the answer now
        // instead of a timeout later (its Retry-After tells when to come back).
        var wait = RetryAfterDelay(response, options, time) ?? options.BackoffCap;
        var request = context.GetRequestMessage();
        if (request is not null && request.Options.TryGetValue(RequestsProxyHandler.StartedOption, out var started))
        {
            return time.GetElapsedTime(started) + wait < options.Deadline;
        }

        return true;
    }

    /// <summary>Retry-After (seconds or an HTTP date) capped at MaxRetryAfter, plus up to 10 % (at most 1 s)
    /// so pods told the same second do not return at the same instant; null when there is none.</summary>
    internal static TimeSpan? RetryAfterDelay(HttpResponseMessage? response, RequestsProxyClientOptions options, TimeProvider time)
    {
        if (response?.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        TimeSpan delay;
        if (retryAfter.Delta is { } delta)
        {
            delay = delta;
        }
        else if (retryAfter.Date is { } date)
        {
            delay = date - time.GetUtcNow();
        }
        else
        {
            return null;
        }

        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }

        if (delay > options.MaxRetryAfter)
        {
            delay = options.MaxRetryAfter;
        }

        var spread = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, delay.Ticks / 10));
        return delay + TimeSpan.FromTicks((long)(spread.Ticks * Random.Shared.NextDouble()));
    }

    private static async ValueTask<bool> TokenChangedAsync(Outcome<HttpResponseMessage> outcome, TokenSource tokens, CancellationToken cancellationToken)
    {
        if (outcome.Result is not { StatusCode: HttpStatusCode.Unauthorized } response || tokens.File is null)
        {
            return false;
        }

        var sent = response.RequestMessage?.Headers.Authorization?.Parameter;
        try
        {
            var current = await tokens.ReadAsync(cancellationToken).ConfigureAwait(false);
            return !string.Equals(sent, current, StringComparison.Ordinal);
        }
        catch (RequestsProxyConfigurationException)
        {
            // The file is gone (the job is being stopped): the 401 is the answer.
            return false;
        }
    }
}
