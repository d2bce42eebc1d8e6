using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace RequestsProxy.Client;

/// <summary>
/// A <see cref="DelegatingHandler"/> that keeps the requests-proxy client contract
/// (docs/client-contract.md) for every request sent through it:
/// <list type="bullet">
/// <item>one <c>Idempotency-Key</c> per logical request (a caller's own key is kept), the same on every attempt;</item>
/// <item>the token file read for every attempt; a 401 whose token changed on disk is retried once;</item>
/// <item>429/502/503/504 waited out (<c>Retry-After</c> when given) and connection errors retried with
/// capped, jittered exponential backoff — a Microsoft.Extensions.Http.Resilience pipeline — until
/// <see cref="RequestsProxyClientOptions.Deadline"/>.</item>
/// </list>
/// Any HTTP answer is returned (a 4xx too); no answer by the deadline is a
/// <see cref="RequestsProxyUnavailableException"/>. Set <see cref="HttpClient.Timeout"/> to
/// <see cref="Timeout.InfiniteTimeSpan"/> (as <see cref="RequestsProxyHttpClient"/> does): the
/// deadline bounds the request, and HttpClient's default 100 s would cut it short.
/// </summary>
public sealed class RequestsProxyHandler : DelegatingHandler
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>How many times the request was sent; read it from <c>response.RequestMessage.Options</c>.</summary>
    public static readonly HttpRequestOptionsKey<int> AttemptsOption = new("RequestsProxy.Attempts");

    /// <summary>The wait before the last retry (diagnostics and tests).</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> LastRetryDelayOption = new("RequestsProxy.LastRetryDelay");

    internal static readonly HttpRequestOptionsKey<long> StartedOption = new("RequestsProxy.Started");
    internal static readonly HttpRequestOptionsKey<Exception> LastErrorOption = new("RequestsProxy.LastError");

    private readonly RequestsProxyClientOptions _options;
    private readonly TimeProvider _time;
    private readonly Lazy<HttpMessageInvoker> _pipeline;

    /// <exception cref="RequestsProxyConfigurationException">No token file and no token is configured.</exception>
    public RequestsProxyHandler(RequestsProxyClientOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new RequestsProxyClientOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        var tokens = new TokenSource(_options);
        var pipeline = ContractPipeline.Build(_options, tokens, _time);
        // Built on first use: InnerHandler is set after construction (by HttpClientFactory, say).
        _pipeline = new Lazy<HttpMessageInvoker>(() => new HttpMessageInvoker(
            new ResilienceHandler(pipeline) { InnerHandler = new TokenFileHandler(tokens) { InnerHandler = new Next(this) } },
            disposeHandler: true));
    }

    /// <inheritdoc cref="RequestsProxyHandler(RequestsProxyClientOptions?, TimeProvider?)"/>
    public RequestsProxyHandler(HttpMessageHandler innerHandler, RequestsProxyClientOptions? options = null, TimeProvider? timeProvider = null)
        : this(options, timeProvider)
    {
        InnerHandler = innerHandler;
    }

    /// <summary>How many times the request behind <paramref name="response"/> was sent (0 if unknown).</summary>
    public static int AttemptsOf(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(AttemptsOption, out var attempts) ? attempts : 0;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.TryGetValues(IdempotencyKeyHeader, out var keys) || !keys.Any())
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, Guid.NewGuid().ToString("N"));
        }

        request.Options.Set(StartedOption, _time.GetTimestamp());
        try
        {
            return await _pipeline.Value.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e) when (!cancellationToken.IsCancellationRequested)
        {
            request.Options.TryGetValue(AttemptsOption, out var attempts);
            request.Options.TryGetValue(LastErrorOption, out var last);
            var key = request.Headers.TryGetValues(IdempotencyKeyHeader, out var values) ? values.FirstOrDefault() : null;
            throw new RequestsProxyUnavailableException(
                $"no answer from {request.RequestUri} within {_options.Deadline.TotalSeconds:0.#} s after {attempts} attempt(s){(last is null ? "" : ": " + last.Message)}",
                last ?? e, attempts, key);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _pipeline.IsValueCreated)
        {
            _pipeline.Value.Dispose();
        }

        base.Dispose(disposing);
    }

    private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    /// <summary>The end of the private chain: this handler's own InnerHandler.</summary>
    private sealed class Next(RequestsProxyHandler owner) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            owner.SendInnerAsync(request, cancellationToken);
    }
}
