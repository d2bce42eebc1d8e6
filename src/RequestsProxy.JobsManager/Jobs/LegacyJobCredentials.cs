using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Metrics;
using RequestsProxy.Tokens.Admin;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Legacy opaque tokens: a random token per job, listed (its digest) in the legacy token list every
/// proxy mounts — written first, so a restarted proxy or a stateless one accepts it — and then
/// registered in the memory of every legacy proxy replica (<see cref="ILegacyProxyEndpoints"/>)
/// through its admin endpoint, and pushed again (<see cref="SyncAsync"/>) to every legacy replica for
/// as long as the list may not have reached them all (a replica the DNS did not list yet, a restarted
/// container). A stop ends its entries at once (kept a grace, so every replica sees the end), then
/// makes every legacy replica forget it. It does not expire: a stateless jobs-manager replaces it with
/// a JWT and ends its entry after a grace (DESIGN §12). Admin requests go only to replicas that run
/// legacy, never in stateless mode, and carry neither the admin token nor a job's token: each is
/// signed with the admin token as HMAC key for the address it is sent to (<see cref="AdminSignature"/>),
/// and registrations and syncs name tokens by digest — so a pod that took over a listed address
/// receives nothing it could use (docs/operations.md, "What a -legacy-pods address receives").
/// </summary>
/// <remarks>
/// The list's <see cref="LegacyIssuer"/> marker says whether opaque tokens may still be added: this
/// process writes its mode's marker at start-up (<see cref="DeclareIssuerAsync"/>) — <c>opaque</c>
/// before its first opaque token, <c>closed</c> in stateless mode — and a stateless proxy is not
/// ready until its copy says <c>closed</c> (docs/operations.md, "The two-phase flip").
/// </remarks>
internal sealed partial class LegacyJobCredentials(
    HttpClient http, AdminTokenProvider adminToken, ILegacyProxyEndpoints endpoints, IDocumentStore<LegacyTokenList> list,
    JobsManagerOptions options, TimeProvider time, ILogger<LegacyJobCredentials> logger, JobsManagerMetrics? metrics,
    IDocumentStore<LegacyIssuer> issuer) : IJobCredentials
{
    private volatile string? _issuerProblem = "the legacy token list's issuing marker has not been written yet";

    // Held while registrations are pushed, and by a stop before it forgets: no push of a stopped job's token lands after its forget.
    private readonly SemaphoreSlim _pendingGate = new(1, 1);
    private readonly Dictionary<string, PendingRegistration> _pending = new(StringComparer.Ordinal);

    // Every ended entry of the list as this process wrote or read it (it is the list's only writer), digest → until;
    // a union, so writes completing out of order lose none. What a sync names as forgotten.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _ended = new(StringComparer.Ordinal);
    private volatile bool _endedLoaded;
    /// <summary>The list as this process last wrote it (null before the first write): see <see cref="MayHoldOpenEntry"/>.</summary>
    private LegacyTokenList? _lastWritten;

    private static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The most of an admin answer this process reads (or drains to reuse the connection): its status is all that counts.</summary>
    public const int MaxAnswerBytes = 16 * 1024;

    public bool Expires => false;

    public string? ActiveKid => null;

    public bool IsReady => adminToken.IsConfigured;

    public string ListLocation => list.Location;

    /// <summary>Why this mode's issuing marker is not in the list's ConfigMap (or file) yet; null once written.</summary>
    public string? IssuerProblem => _issuerProblem;

    /// <summary>
    /// Writes <c>opaque</c> (legacy) or <c>closed</c> (stateless) as the list's issuing marker, once per
    /// process; false (with <see cref="IssuerProblem"/>) when it could not be written, retried by the caller.
    /// Stateless: the old jobs-manager is gone (<c>Recreate</c>), so every opaque entry it wrote came before this.
    /// </summary>
    public async Task<bool> DeclareIssuerAsync(CancellationToken cancellationToken)
    {
        if (_issuerProblem is null)
        {
            return true;
        }

        var marker = LegacyIssuer.Of(options.Stateless);
        try
        {
            var previous = LegacyIssuer.Unknown;
            await issuer.UpdateAsync(current => (previous = current) == marker ? current : marker, cancellationToken).ConfigureAwait(false);
            _issuerProblem = null;
            Log.IssuerDeclared(logger, marker.Value, previous.ToString(), issuer.Location);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _issuerProblem = $"the legacy token list's issuing marker could not be set to '{marker.Value}' in {issuer.Location}: {e.Message}";
            Log.IssuerFailed(logger, marker.Value, issuer.Location, e);
            return false;
        }
    }

    /// <summary>Registrations still pushed to every legacy replica (tests and metrics).</summary>
    public int PendingRegistrations
    {
        get
        {
            lock (_pending)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>The non-secret id of a legacy token in the ledger and the API: a digest prefix, never the token.</summary>
    public static string IdOf(string token) =>
        "opaque-" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token)).AsSpan(0, 8));

    public async Task<JobCredential> IssueAsync(string subject, string scope, CancellationToken cancellationToken)
    {
        var replicas = await endpoints.ResolveAsync(cancellationToken).ConfigureAwait(false);
        if (replicas.Legacy.Count == 0)
        {
            // The first legacy pods of a fresh install or a flip back are not in DNS yet: nothing could be registered.
            throw new HttpRequestException($"no legacy proxy replica is listed yet ({replicas.Others.Count} other replica(s)); retry the start");
        }

        if (replicas.Others.Count > 0)
        {
            // A replica that is not legacy would refuse the token until the list reached it: the caller issues a JWT instead.
            // Nothing was listed, and no request (no admin token) went anywhere.
            throw new StatelessReplicaException(replicas.Others[0], subject);
        }

        // No opaque token before the list says one may come: a stateless pod that starts now waits for 'closed'.
        if (!await DeclareIssuerAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new HttpRequestException(_issuerProblem);
        }

        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var digest = LegacyTokenDigest.Compute(token);

        // Listed before any proxy accepts it: no replica ever accepts a token a restart would forget. A list that could
        // not be ended within its ConfigMap once this entry is in refuses the start (507, nothing written): ending adds
        // an "until" to every entry, and a stop or a cutover must never fail for want of room.
        await UpdateListAsync(l =>
        {
            var next = l.Add(new LegacyTokenEntry(digest, subject, scope));
            var size = next.SizeWhenEveryEntryEnded();
            return size > DocumentLimits.LegacyListAdmitBytes
                ? throw new DocumentTooLargeException("legacy token list (with every entry ended)", size, DocumentLimits.LegacyListAdmitBytes, list.Location)
                : next;
        }, cancellationToken).ConfigureAwait(false);
        var registration = new LegacyRegistration(digest, subject, scope);
        lock (_pending)
        {
            _pending[digest] = new PendingRegistration(registration, time.GetUtcNow() + options.LegacyTokenGrace);
        }

        var accepted = new System.Collections.Concurrent.ConcurrentBag<Uri>();
        try
        {
            await ForEachReplicaAsync(replicas.Legacy, async proxy =>
            {
                using var request = AdminRequest(HttpMethod.Post, new Uri(proxy, "admin/v1/tokens"),
                    JsonSerializer.SerializeToUtf8Bytes(registration, JobsJsonContext.Default.LegacyRegistration));
                using var response = await SendAdminAsync(request, proxy, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new StatelessReplicaException(proxy, subject);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"the proxy at {proxy} refused the legacy token registration of '{subject}' with HTTP {(int)response.StatusCode}", null, response.StatusCode);
                }

                accepted.Add(proxy);
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never delivered: no more pushes, and its entry ends now, kept a grace as a stop's are, so a replica that
            // accepted the registration refuses the token once the list reaches it (an entry left open is ended by the
            // next maintenance pass). Those replicas are also told to forget it at once, best effort.
            await WithoutPendingAsync(p => p.Registration.Digest == digest).ConfigureAwait(false);
            await QuietlyAsync(() => UpdateListAsync(l => l.EndDigest(digest, time.GetUtcNow().ToUnixTimeSeconds()), CancellationToken.None), subject).ConfigureAwait(false);
            await Task.WhenAll(accepted.Select(proxy => QuietlyAsync(async () =>
            {
                using var timeout = new CancellationTokenSource(SyncTimeout);
                using var request = AdminRequest(HttpMethod.Delete, new Uri(proxy, "admin/v1/tokens/" + digest), null);
                try
                {
                    using var response = await SendAdminAsync(request, proxy, timeout.Token).ConfigureAwait(false);
                    response.EnsureSuccessStatusCode();
                }
                catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
                {
                    throw new HttpRequestException($"the proxy at {proxy} did not answer the forget of a failed registration within {SyncTimeout.TotalSeconds:0} s", e);
                }
            }, subject))).ConfigureAwait(false);
            throw;
        }

        return new JobCredential(token, new IssuedToken(IdOf(token), null, time.GetUtcNow(), null));
    }

    /// <summary>
    /// Ends every legacy token of the job, then makes every legacy replica forget it (whatever <paramref name="tokens"/> says).
    /// Throws <see cref="ForgetUnconfirmedException"/> when the end is written but a replica did not confirm its forget.
    /// </summary>
    public Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, CancellationToken cancellationToken) =>
        RevokeAsync(subject, tokens, replicasMustAnswer: true, cancellationToken);

    /// <param name="replicasMustAnswer">
    /// False in stateless mode: no replica is called at all (the admin token stays in this process);
    /// a legacy replica still running refuses the token once the list's end reaches it, as a stateless one does.
    /// </param>
    public async Task<int> RevokeAsync(string subject, IReadOnlyList<IssuedToken> tokens, bool replicasMustAnswer, CancellationToken cancellationToken)
    {
        if (!replicasMustAnswer && !tokens.Any(t => t.Kid is null) && !MayHoldOpenEntry(subject))
        {
            // Stateless, no legacy token in the job's history, and the list as last read holds no open entry of it:
            // ended now, best effort (a list outage does not fail the stop of a job that has nothing to end there).
            await QuietlyAsync(() => UpdateListAsync(l => l.EndSubject(subject, time.GetUtcNow().ToUnixTimeSeconds(), out _), cancellationToken), subject).ConfigureAwait(false);
            return 0;
        }

        // No push of this job's registrations after this line: the forget below is the last word at every replica.
        await WithoutPendingAsync(p => string.Equals(p.Registration.Sub, subject, StringComparison.Ordinal)).ConfigureAwait(false);

        // Ended, not removed: the ended entry stays a grace, so a replica that registered the token but never saw
        // its entry still learns that it ended (its forget may not arrive).
        var ended = 0;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        await UpdateListAsync(l => l.EndSubject(subject, now, out ended), cancellationToken).ConfigureAwait(false);

        if (ended > 0)
        {
            Log.Unlisted(logger, subject, ended, list.Location);
        }

        var revoked = Math.Max(ended, tokens.Count(t => t.Kid is null));
        if (replicasMustAnswer)
        {
            // From here on the tokens are revoked whatever a replica answers: the forgets only make it "at once". They
            // are not cancelled with the caller (each is bounded by the client's timeout), and every replica is asked.
            var unconfirmed = await ForgetAtEveryReplicaAsync(subject).ConfigureAwait(false);
            if (unconfirmed.Count > 0)
            {
                Log.ForgetUnconfirmed(logger, subject, unconfirmed.Count, string.Join("; ", unconfirmed));
                throw new ForgetUnconfirmedException(subject, revoked, unconfirmed);
            }
        }

        return revoked;
    }

    /// <summary>Asks every legacy replica to forget the subject; returns each one that did not confirm, with why (none: all did).</summary>
    private async Task<IReadOnlyList<string>> ForgetAtEveryReplicaAsync(string subject)
    {
        LegacyReplicas replicas;
        try
        {
            replicas = await endpoints.ResolveAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return [$"the legacy replicas could not be listed: {e.Message}"];
        }

        var answers = await Task.WhenAll(replicas.Legacy.Select(async proxy =>
        {
            try
            {
                using var request = AdminRequest(HttpMethod.Delete, new Uri(proxy, "admin/v1/subjects/" + Uri.EscapeDataString(subject)), null);
                using var response = await SendAdminAsync(request, proxy, CancellationToken.None).ConfigureAwait(false);

                // 404: this replica does not know the subject (it restarted, or started after the job) — already forgotten.
                return response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound
                    ? null
                    : $"{proxy} refused the forget with HTTP {(int)response.StatusCode}";
            }
            catch (Exception e)
            {
                // Unreachable, slow (the client's timeout), redirected, or no admin token to sign with.
                return e is OperationCanceledException ? $"{proxy} did not answer the forget in time" : $"{proxy}: {e.Message}";
            }
        })).ConfigureAwait(false);
        return [.. answers.OfType<string>()];
    }

    /// <summary>The job now holds a signed token: its legacy entries end after the grace (the kubelet's delivery of the new file).</summary>
    public async Task<int> EndAsync(string subject, CancellationToken cancellationToken)
    {
        var until = (time.GetUtcNow() + options.LegacyTokenGrace).ToUnixTimeSeconds();
        var changed = 0;
        await UpdateListAsync(l => l.EndSubject(subject, until, out changed), cancellationToken).ConfigureAwait(false);
        if (changed > 0)
        {
            Log.Ended(logger, subject, changed, DateTimeOffset.FromUnixTimeSeconds(until));
        }

        return changed;
    }

    /// <summary>
    /// Ends the entries no live job holds, and drops entries that ended more than a grace ago (so every
    /// replica has seen their end before they go).
    /// </summary>
    public async Task<int> ConvergeAsync(Func<string, bool> holdsLegacyToken, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var until = (now + options.LegacyTokenGrace).ToUnixTimeSeconds();
        int ended = 0, pruned = 0;
        await UpdateListAsync(l =>
        {
            var next = l.Prune((now - options.LegacyTokenGrace).ToUnixTimeSeconds(), out pruned);
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

    /// <summary>
    /// Legacy mode, every <see cref="JobsManagerOptions.LegacySyncInterval"/>: pushes every registration
    /// younger than the grace to every legacy replica in one request, which also tells the replica it is
    /// synced (it is not ready before, DESIGN §12). A replica the DNS listed late, or whose container
    /// restarted, gets what it missed before it takes traffic. Returns how many replicas were synced.
    /// </summary>
    public async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        if (!adminToken.IsConfigured)
        {
            return 0;
        }

        LegacyReplicas replicas;
        try
        {
            replicas = await endpoints.ResolveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            Log.SyncSkipped(logger, e.Message);
            return 0;
        }

        // The ended entries go with every sync (a restarted replica's copy may predate their end, and its forgets are
        // gone, finding B7 of 2026-12-02): no sync without them, or a replica would count as synced without knowing them.
        if (!_endedLoaded)
        {
            try
            {
                NoteEnded((await list.ReadAsync(cancellationToken).ConfigureAwait(false)).Document);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.SyncSkipped(logger, $"the legacy token list could not be read for its ended entries: {e.Message}");
                return 0;
            }
        }

        await _pendingGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LegacySync body;
            var now = time.GetUtcNow();
            var nowSeconds = now.ToUnixTimeSeconds();
            var keep = (now - options.LegacyTokenGrace - options.LegacyTokenGrace).ToUnixTimeSeconds();
            foreach (var old in _ended.Where(e => e.Value < keep).Select(e => e.Key).ToList())
            {
                // Dropped from the list a grace after its end (and a grace more here): every copy has seen the end by then.
                _ended.TryRemove(old, out _);
            }

            string[] forgotten = [.. _ended.Where(e => e.Value <= nowSeconds).Select(e => e.Key)];
            lock (_pending)
            {
                foreach (var expired in _pending.Where(p => p.Value.Until <= now).Select(p => p.Key).ToList())
                {
                    _pending.Remove(expired);
                }

                body = new LegacySync([.. _pending.Values.Select(p => p.Registration)], forgotten);
            }

            var content = JsonSerializer.SerializeToUtf8Bytes(body, JobsJsonContext.Default.LegacySync);

            var synced = 0;
            await Task.WhenAll(replicas.Legacy.Select(async proxy =>
            {
                try
                {
                    // Bounded: a stop waits for this push before it forgets.
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(SyncTimeout);
                    using var request = AdminRequest(HttpMethod.Post, new Uri(proxy, "admin/v1/sync"), content);
                    using var response = await SendAdminAsync(request, proxy, timeout.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref synced);
                    }
                    else
                    {
                        Log.SyncRefused(logger, proxy, (int)response.StatusCode);
                    }
                }
                catch (HttpRequestException e) when (e.StatusCode is { } status)
                {
                    // A redirect: not followed, and as loud as any other refusal.
                    Log.SyncRefused(logger, proxy, (int)status);
                }
                catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // Not up yet, gone, or slow: the next pass tries again.
                    Log.SyncSkipped(logger, $"{proxy}: {e.Message}");
                }
            })).ConfigureAwait(false);
            return synced;
        }
        finally
        {
            _pendingGate.Release();
        }
    }

    /// <summary>Every change of the list: its size exported, and a warning from 80 % of the ConfigMap limit on.</summary>
    /// <summary>
    /// The list as last written (every maintenance pass writes it through <see cref="ConvergeAsync"/>) holds an entry
    /// of <paramref name="subject"/> that has not ended, or the list was not written yet. The job's history forgets a
    /// replaced legacy token by time, not by a confirmed end: an end that kept failing after the JWT's delivery
    /// leaves the entry open, and a stop that then took the best-effort path left the stopped job's legacy token
    /// accepted by every replica (finding B9). Such a stop ends the entry now, or fails.
    /// </summary>
    private bool MayHoldOpenEntry(string subject) =>
        Volatile.Read(ref _lastWritten) is not { } written
        || written.Entries.Any(e => e.Until is null && string.Equals(e.Sub, subject, StringComparison.Ordinal));

    private async Task UpdateListAsync(Func<LegacyTokenList, LegacyTokenList> change, CancellationToken cancellationToken)
    {
        var snapshot = await list.UpdateAsync(change, cancellationToken).ConfigureAwait(false);
        NoteEnded(snapshot.Document);
        Volatile.Write(ref _lastWritten, snapshot.Document);
        metrics?.LegacyTokensSize(snapshot.SizeBytes, snapshot.Document.Count);
        if (snapshot.SizeBytes >= DocumentLimits.WarningThresholdBytes)
        {
            Log.NearLimit(logger, snapshot.SizeBytes, DocumentLimits.ConfigMapBytes, snapshot.Document.Count, list.Location);
        }
    }

    /// <summary>Takes the list's ended entries into what every sync names as forgotten.</summary>
    private void NoteEnded(LegacyTokenList current)
    {
        foreach (var entry in current.Entries)
        {
            if (entry.Until is { } until)
            {
                _ended.AddOrUpdate(entry.Digest, until, (_, known) => Math.Min(known, until));
            }
        }

        _endedLoaded = true;
    }

    /// <summary>Stops pushing the matching registrations; waits for a push in flight so none lands after this returns.</summary>
    private async Task WithoutPendingAsync(Func<PendingRegistration, bool> match)
    {
        await _pendingGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            lock (_pending)
            {
                foreach (var digest in _pending.Where(p => match(p.Value)).Select(p => p.Key).ToList())
                {
                    _pending.Remove(digest);
                }
            }
        }
        finally
        {
            _pendingGate.Release();
        }
    }

    private sealed record PendingRegistration(LegacyRegistration Registration, DateTimeOffset Until);

    /// <summary>Runs the call against every given replica at once; any replica's failure fails the whole operation.</summary>
    private static async Task ForEachReplicaAsync(IReadOnlyList<Uri> replicas, Func<Uri, Task> call)
    {
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

    /// <summary>
    /// Sends an admin request and returns once the answer's headers are in: its body is never read (disposing the
    /// answer drains at most <see cref="MaxAnswerBytes"/>, then drops the connection). A redirect is a failure naming
    /// it: the signed request is never re-sent elsewhere (the client does not follow it either).
    /// </summary>
    private async Task<HttpResponseMessage> SendAdminAsync(HttpRequestMessage request, Uri proxy, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            var status = response.StatusCode;
            var location = response.Headers.Location;
            response.Dispose();
            throw new HttpRequestException(
                $"the proxy at {proxy} answered {request.Method} {request.RequestUri!.AbsolutePath} with a redirect (HTTP {(int)status}{(location is null ? "" : " to " + location)}); admin requests are never redirected", null, status);
        }

        return response;
    }

    /// <summary>
    /// An admin request signed for <paramref name="url"/>'s address (<see cref="AdminSignature"/>): the
    /// admin token is the HMAC key and is never sent; the body (JSON) is exactly the bytes signed.
    /// </summary>
    private HttpRequestMessage AdminRequest(HttpMethod method, Uri url, byte[]? body)
    {
        var admin = adminToken.Current ?? throw new InvalidOperationException($"the admin token file '{adminToken.Path}' is missing or empty");
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        foreach (var (name, value) in AdminSignature.Sign(admin, method.Method, url, body ?? [], time.GetUtcNow()).All)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Legacy tokens of job {Job} ended now ({Count}) in {Location}")]
        public static partial void Unlisted(ILogger logger, string job, int count, string location);

        [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Job {Job} holds a signed token: its {Count} legacy token entr(ies) end at {Until}")]
        public static partial void Ended(ILogger logger, string job, int count, DateTimeOffset until);

        [LoggerMessage(EventId = 602, Level = LogLevel.Information, Message = "Legacy token list at {Location}: {Ended} entr(ies) no live job holds now end after the grace, {Pruned} ended entr(ies) dropped")]
        public static partial void Converged(ILogger logger, int ended, int pruned, string location);

        [LoggerMessage(EventId = 603, Level = LogLevel.Warning, Message = "A legacy token step for job {Job} failed; the maintenance loop catches up")]
        public static partial void Deferred(ILogger logger, string job, Exception exception);

        [LoggerMessage(EventId = 607, Level = LogLevel.Warning,
            Message = "The legacy token list is {SizeBytes} bytes of the {LimitBytes}-byte ConfigMap limit ({Entries} entries) at {Location}; starts are refused past the limit: stop finished legacy jobs or flip to stateless")]
        public static partial void NearLimit(ILogger logger, long sizeBytes, long limitBytes, int entries, string location);

        [LoggerMessage(EventId = 604, Level = LogLevel.Debug, Message = "Legacy registration sync skipped a replica or a pass: {Reason}")]
        public static partial void SyncSkipped(ILogger logger, string reason);

        [LoggerMessage(EventId = 612, Level = LogLevel.Information, Message = "Legacy token list issuing marker set to '{Marker}' (was {Previous}) in {Location}")]
        public static partial void IssuerDeclared(ILogger logger, string marker, string previous, string location);

        [LoggerMessage(EventId = 613, Level = LogLevel.Error, Message = "Could not set the legacy token list's issuing marker to '{Marker}' in {Location}; not ready, retried every pass")]
        public static partial void IssuerFailed(ILogger logger, string marker, string location, Exception exception);

        [LoggerMessage(EventId = 614, Level = LogLevel.Warning,
            Message = "Legacy tokens of job {Job} are ended in the list, but {Count} legacy replica(s) did not confirm the forget: {Replicas}; they refuse the tokens once the list's end reaches them")]
        public static partial void ForgetUnconfirmed(ILogger logger, string job, int count, string replicas);

        [LoggerMessage(EventId = 605, Level = LogLevel.Warning, Message = "The legacy proxy replica {Replica} refused the registration sync with HTTP {Status}; retried on the next pass")]
        public static partial void SyncRefused(ILogger logger, Uri replica, int status);
    }
}
