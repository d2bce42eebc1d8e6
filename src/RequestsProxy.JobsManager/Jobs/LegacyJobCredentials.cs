using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using RequestsProxy.JobsManager.Api;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Legacy mode (REQUESTS_PROXY_STATELESS=false): an opaque random token per job, registered in
/// the proxy's memory through its admin endpoint and forgotten there on stop. It does not expire,
/// and a proxy restart loses it — the behaviour the stateless mode exists to end.
/// </summary>
internal sealed class LegacyJobCredentials(HttpClient http, AdminTokenProvider adminToken, JobsManagerOptions options, TimeProvider time) : IJobCredentials
{
    public bool Expires => false;

    public string? ActiveKid => null;

    public bool IsReady => adminToken.IsConfigured;

    public async Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

        // A stable, non-secret handle for logs and the API: a hash prefix, never the token.
        var id = "opaque-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)).AsSpan(0, 8));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.ProxyUrl, "admin/v1/tokens"))
        {
            Content = JsonContent.Create(new LegacyRegistration(token, subject, scope), JobsJsonContext.Default.LegacyRegistration),
        };
        Authorize(request);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the proxy refused the legacy token registration of '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
        }

        return new JobCredential(token, new IssuedToken(id, null, time.GetUtcNow(), null));
    }

    public async Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(options.ProxyUrl, "admin/v1/subjects/" + Uri.EscapeDataString(subject)));
        Authorize(request);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);

        // 404: the proxy does not know the subject (it restarted, or it was never registered) — already forgotten.
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw new HttpRequestException($"the proxy refused to forget '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
        }

        return tokens.Count;
    }

    private void Authorize(HttpRequestMessage request)
    {
        var admin = adminToken.Current ?? throw new InvalidOperationException($"the admin token file '{adminToken.Path}' is missing or empty");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
    }
}
