using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RequestsProxy.JobsApi;

/// <summary>
/// The jobs-manager's admin API (DESIGN §8). Every failure becomes a <see cref="JobsApiException"/>
/// carrying the API's own error sentence, and whether it was a refusal (409) or anything else that
/// keeps the call from working (unreachable, 401, 400, 5xx).
/// </summary>
public sealed class JobsApiClient : IDisposable
{
    /// <summary>Start and stop wait for the Kubernetes API behind the jobs-manager; a minute is generous.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Names the human or system behind a call in the jobs-manager's audit trail. Claimed, not proven
    /// (only the admin token is): it tells apart the people who share that token.
    /// </summary>
    public const string ActorHeader = "X-Requests-Proxy-Actor";

    private readonly HttpClient _http;

    /// <param name="actor">For the audit trail, e.g. <c>alice@laptop</c>; null sends no <see cref="ActorHeader"/>.</param>
    public JobsApiClient(Uri baseAddress, string adminToken, string? actor = null)
    {
        // A trailing slash keeps a path prefix (a jobs-manager behind an ingress path) when resolving "v1/…".
        BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = Timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        if (actor is { Length: > 0 })
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(ActorHeader, actor);
        }
    }

    public Uri BaseAddress { get; }

    public Task<JobsApiReply<JobResponse>> StartAsync(StartJobRequest body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/jobs", JsonContent.Create(body, JobsApiJsonContext.Default.StartJobRequest), JobsApiJsonContext.Default.JobResponse, cancellationToken);

    public Task<JobsApiReply<StopJobResponse>> StopAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "v1/jobs/" + Uri.EscapeDataString(name), null, JobsApiJsonContext.Default.StopJobResponse, cancellationToken);

    public Task<JobsApiReply<JobListResponse>> ListAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/jobs", null, JobsApiJsonContext.Default.JobListResponse, cancellationToken);

    public Task<JobsApiReply<KeyUsageResponse>> KeyUsageAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/keys/usage", null, JobsApiJsonContext.Default.KeyUsageResponse, cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task<JobsApiReply<T>> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        string body;
        HttpStatusCode status;
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new JobsApiException($"cannot reach the jobs-manager at {BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new JobsApiException($"the jobs-manager at {BaseAddress} did not answer within {Timeout.TotalSeconds:0} s");
        }

        if ((int)status is < 200 or > 299)
        {
            throw Refusal(method, path, status, body);
        }

        try
        {
            var value = JsonSerializer.Deserialize(body, type) ?? throw new JsonException("the body is null");
            return new JobsApiReply<T>(value, body);
        }
        catch (JsonException e)
        {
            throw new JobsApiException($"the jobs-manager at {BaseAddress} answered {method} /{path} with something that is not the expected JSON: {e.Message}");
        }
    }

    private static JobsApiException Refusal(HttpMethod method, string path, HttpStatusCode status, string body)
    {
        string detail;
        try
        {
            var error = JsonSerializer.Deserialize(body, JobsApiJsonContext.Default.ErrorResponse);
            detail = error?.Message is { Length: > 0 } message ? $"{message} ({error.Error})" : Excerpt(body);
        }
        catch (JsonException)
        {
            detail = Excerpt(body);
        }

        var code = (int)status;
        return new JobsApiException($"the jobs-manager refused {method} /{path} with HTTP {code}: {detail}", status);
    }

    private static string Excerpt(string body)
    {
        var text = body.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text.Length <= 200 ? text : text[..200] + "…";
    }
}
