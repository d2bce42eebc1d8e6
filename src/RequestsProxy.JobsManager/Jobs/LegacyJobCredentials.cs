using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Legacy opaque tokens: a random token per job, listed (its digest) in the legacy token list every
/// proxy mounts — written first, so a restarted proxy or a stateless one accepts it — and then
/// registered in the memory of every proxy replica (<see cref="ILegacyProxyEndpoints"/>) through its
/// admin endpoint. A stop unlists it, then makes every replica forget it. It does not expire: a
/// stateless jobs-manager replaces it with a JWT and ends its entry after a grace (DESIGN §12).
/// </summary>
internal sealed partial class LegacyJobCredentials(
    HttpClient http, AdminTokenProvider adminToken, ILegacyProxyEndpoints endpoints, IDocumentStore<LegacyTokenList> list,
    JobsManagerOptions options, TimeProvider time, ILogger<LegacyJobCredentials> logger) : IJobCredentials
{
    public bool Expires => false;

    public string? ActiveKid => null;

    public bool IsReady => adminToken.IsConfigured;

    public string ListLocation => list.Location;

    /// <summary>The non-secret id of a legacy token in the ledger and the API: a digest prefix, never the token.</summary>
    public static string IdOf(string token) =>
        "opaque-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)).AsSpan(0, 8));

    public async Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var digest = LegacyTokenDigest.Compute(token);

        // Listed before any proxy accepts it: no replica ever accepts a token a restart would forget.
        await list.UpdateAsync(l => l.Add(new LegacyTokenEntry(digest, subject, scope)), cancellationToken).ConfigureAwait(false);
        var registration = new LegacyRegistration(token, subject, scope);
        try
        {
            await ForEachReplicaAsync(async proxy =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(proxy, "admin/v1/tokens"))
                {
                    Content = JsonContent.Create(registration, JobsJsonContext.Default.LegacyRegistration),
                };
                Authorize(request);
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new StatelessReplicaException(proxy, subject);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"the proxy at {proxy} refused the legacy token registration of '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never delivered: unlist it again (an entry left behind is ended by the next maintenance pass).
            await QuietlyAsync(() => list.UpdateAsync(l => l.RemoveDigest(digest), CancellationToken.None), subject).ConfigureAwait(false);
            throw;
        }

        return new JobCredential(token, new IssuedToken(IdOf(token), null, time.GetUtcNow(), null));
    }

    /// <summary>Unlists every legacy token of the job, then makes every replica forget it (whatever <paramref name="tokens"/> says).</summary>
    public Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken) =>
        RevokeAsync(subject, tokens, replicasMustAnswer: true, cancellationToken);

    /// <param name="replicasMustAnswer">
    /// False in stateless mode: the proxies are stateless (they answer 404) or about to be, so a
    /// replica that cannot be reached only delays its own refusal until it is gone.
    /// </param>
    public async Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, bool replicasMustAnswer, CancellationToken cancellationToken)
    {
        if (!replicasMustAnswer && !tokens.Any(t => t.Kid is null))
        {
            // Stateless, and the job never held a legacy token: nothing lists it, no proxy's memory knows it
            // (an entry left by a failure is ended by the maintenance pass).
            return 0;
        }

        var removed = 0;
        await list.UpdateAsync(l => l.RemoveSubject(subject, out removed), cancellationToken).ConfigureAwait(false);

        var forget = ForEachReplicaAsync(async proxy =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(proxy, "admin/v1/subjects/" + Uri.EscapeDataString(subject)));
            Authorize(request);
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);

            // 404: this replica does not know the subject (it restarted, started after the job, or is stateless) — already forgotten.
            if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
            {
                throw new HttpRequestException($"the proxy at {proxy} refused to forget '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }
        }, cancellationToken);
        if (replicasMustAnswer)
        {
            await forget.ConfigureAwait(false);
        }
        else
        {
            await QuietlyAsync(() => forget, subject).ConfigureAwait(false);
        }

        if (removed > 0)
        {
            Log.Unlisted(logger, subject, removed, list.Location);
        }

        return Math.Max(removed, tokens.Count(t => t.Kid is null));
    }

    /// <summary>The job now holds a signed token: its legacy entries end after the grace (the kubelet's delivery of the new file).</summary>
    public async Task<int> EndAsync(string subject, CancellationToken cancellationToken)
    {
        var until = (time.GetUtcNow() + options.LegacyTokenGrace).ToUnixTimeSeconds();
        var changed = 0;
        await list.UpdateAsync(l => l.EndSubject(subject, until, out changed), cancellationToken).ConfigureAwait(false);
        if (changed > 0)
        {
            Log.Ended(logger, subject, changed, DateTimeOffset.FromUnixTimeSeconds(until));
        }

        return changed;
    }

    public async Task<int> ConvergeAsync(Func<string, bool> holdsLegacyToken, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var until = (now + options.LegacyTokenGrace).ToUnixTimeSeconds();
        int ended = 0, pruned = 0;
        await list.UpdateAsync(l =>
        {
            var next = l.Prune(now.ToUnixTimeSeconds(), out pruned);
            ended = 0;
            foreach (var sub in next.Entries.Where(e => e.Until is null && !holdsLegacyToken(e.Sub)).Select(e => e.Sub).Distinct(StringComparer.Ordinal).ToList())
            {
                next = next.EndSubject(sub, until, out var count);
                ended += count;
            }

            return next;
        }, cancellationToken).ConfigureAwait(false);
        if (ended + pruned > 0)
        {
            Log.Converged(logger, ended, pruned, list.Location);
        }

        return ended + pruned;
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
        catch (HttpRequestException) when (calls.FirstOrDefault(c => c.Exception?.InnerException is StatelessReplicaException) is { } stateless)
        {
            // One replica is stateless: the caller issues a signed token instead, whatever the others said.
            throw stateless.Exception!.InnerException!;
        }
        catch (HttpRequestException first) when (calls.Length > 1)
        {
            throw new HttpRequestException($"{calls.Count(c => c.IsFaulted)} of {calls.Length} proxy replicas failed; the first: {first.Message}", first, first.StatusCode);
        }
    }

    private async Task QuietlyAsync(Func<Task> call, string subject)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Deferred(logger, subject, e);
        }
    }

    private void Authorize(HttpRequestMessage request)
    {
        var admin = adminToken.Current ?? throw new InvalidOperationException($"the admin token file '{adminToken.Path}' is missing or empty");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Legacy tokens of job {Job} unlisted ({Count}) from {Location}")]
        public static partial void Unlisted(ILogger logger, string job, int count, string location);

        [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Job {Job} holds a signed token: its {Count} legacy token entr(ies) end at {Until}")]
        public static partial void Ended(ILogger logger, string job, int count, DateTimeOffset until);

        [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Legacy token list at {Location}: {Ended} entr(ies) no live job holds now end after the grace, {Pruned} ended entr(ies) dropped")]
        public static partial void Converged(ILogger logger, int ended, int pruned, string location);

        [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "A legacy token step for job {Job} failed; the maintenance loop catches up")]
        public static partial void Deferred(ILogger logger, string job, Exception exception);
    }
}
