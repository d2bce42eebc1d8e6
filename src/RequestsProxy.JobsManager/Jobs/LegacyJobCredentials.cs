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
/// and a proxy restart loses it — the behaviour the stateless mode exists to end. Each replica
/// keeps its own registry, so registering and forgetting go to every replica
/// (<see cref="ILegacyProxyEndpoints"/>); a replica that starts later knows none of the tokens.
/// </summary>
internal sealed class LegacyJobCredentials(HttpClient http, AdminTokenProvider adminToken, ILegacyProxyEndpoints endpoints, TimeProvider time) : IJobCredentials
{
    public bool Expires => false;

    public string? ActiveKid => null;

    public bool IsReady => adminToken.IsConfigured;

    public async Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

        // A stable, non-secret handle for logs and the API: a hash prefix, never the token.
        var id = "opaque-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)).AsSpan(0, 8));
        var registration = new LegacyRegistration(token, subject, scope);
        await ForEachReplicaAsync(async proxy =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(proxy, "admin/v1/tokens"))
            {
                Content = JsonContent.Create(registration, JobsJsonContext.Default.LegacyRegistration),
            };
            Authorize(request);
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"the proxy at {proxy} refused the legacy token registration of '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }
        }, cancellationToken).ConfigureAwait(false);

        return new JobCredential(token, new IssuedToken(id, null, time.GetUtcNow(), null));
    }

    public async Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken)
    {
        await ForEachReplicaAsync(async proxy =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(proxy, "admin/v1/subjects/" + Uri.EscapeDataString(subject)));
            Authorize(request);
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);

            // 404: this replica does not know the subject (it restarted, or started after the job) — already forgotten.
            if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
            {
                throw new HttpRequestException($"the proxy at {proxy} refused to forget '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }
        }, cancellationToken).ConfigureAwait(false);

        return tokens.Count;
    }

    /// <summary>Runs the call against every replica at once; any replica's failure fails the whole operation.</summary>
    private async Task ForEachReplicaAsync(Func<Uri, Task> call, CancellationToken cancellationToken)
    {
        var replicas = await endpoints.ResolveAsync(cancellationToken).ConfigureAwait(false);
        var calls = replicas.Select(call).ToArray();
        try
        {
            await Task.WhenAll(calls).ConfigureAwait(false);
        }
        catch (HttpRequestException first) when (calls.Length > 1)
        {
            throw new HttpRequestException($"{calls.Count(c => c.IsFaulted)} of {calls.Length} proxy replicas failed; the first: {first.Message}", first, first.StatusCode);
        }
    }

    private void Authorize(HttpRequestMessage request)
    {
        var admin = adminToken.Current ?? throw new InvalidOperationException($"the admin token file '{adminToken.Path}' is missing or empty");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
    }
}
