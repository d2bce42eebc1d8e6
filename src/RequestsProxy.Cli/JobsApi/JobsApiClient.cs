using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace RequestsProxy.Cli.JobsApi;

/// <summary>
/// The jobs-manager's admin API (DESIGN §8). Every failure becomes a <see cref="CliException"/>
/// carrying the API's own error sentence; a 409 is a refusal (exit 1), anything else that keeps
/// the command from working — unreachable, 401, 400, 5xx — is exit 2.
/// </summary>
internal sealed class JobsApiClient : IDisposable
{
    /// <summary>Start and stop wait for the Kubernetes API behind the jobs-manager; a minute is generous.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;

    public JobsApiClient(Uri baseAddress, string adminToken)
    {
        // A trailing slash keeps a path prefix (a jobs-manager behind an ingress path) when resolving "v1/…".
        BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = Timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
    }

    public Uri BaseAddress { get; }

    public Task<JobsApiReply<JobBody>> StartAsync(StartJobBody body, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "v1/jobs", JsonContent.Create(body, JobsApiJsonContext.Default.StartJobBody), JobsApiJsonContext.Default.JobBody, cancellationToken);

    public Task<JobsApiReply<StopJobBody>> StopAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "v1/jobs/" + Uri.EscapeDataString(name), null, JobsApiJsonContext.Default.StopJobBody, cancellationToken);

    public Task<JobsApiReply<JobListBody>> ListAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/jobs", null, JobsApiJsonContext.Default.JobListBody, cancellationToken);

    public Task<JobsApiReply<KeyUsageBody>> KeyUsageAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/keys/usage", null, JobsApiJsonContext.Default.KeyUsageBody, cancellationToken);

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
            throw new CliException($"cannot reach the jobs-manager at {BaseAddress}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"the jobs-manager at {BaseAddress} did not answer within {Timeout.TotalSeconds:0} s");
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
            throw new CliException($"the jobs-manager at {BaseAddress} answered {method} /{path} with something that is not the expected JSON: {e.Message}");
        }
    }

    private static CliException Refusal(HttpMethod method, string path, HttpStatusCode status, string body)
    {
        string detail;
        try
        {
            var error = JsonSerializer.Deserialize(body, JobsApiJsonContext.Default.ErrorBody);
            detail = error?.Message is { Length: > 0 } message ? $"{message} ({error.Error})" : Excerpt(body);
        }
        catch (JsonException)
        {
            detail = Excerpt(body);
        }

        var code = (int)status;
        var hint = status == HttpStatusCode.Unauthorized ? "; check --admin-token-file or RPCTL_ADMIN_TOKEN" : string.Empty;
        return new CliException(
            $"the jobs-manager refused {method} /{path} with HTTP {code}: {detail}{hint}",
            status == HttpStatusCode.Conflict ? ExitCodes.Refused : ExitCodes.Usage);
    }

    private static string Excerpt(string body)
    {
        var text = body.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "(empty body)" : text.Length <= 200 ? text : text[..200] + "…";
    }
}
