using System.Globalization;
using RequestsProxy.JobsApi;
using RequestsProxy.Tokens.IO;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// The rotation verbs of DESIGN §3 over any store: init, add, promote, retire, status. Retire
/// refuses the active kid always, and a kid whose tokens may still be alive unless forced. This is
/// the one place the retire rules live; the folder and the Kubernetes Secret forms share it.
/// </summary>
internal sealed class KeyRingOperations(IKeyRingStore store, TimeProvider time)
{
    /// <summary>
    /// Read → change → conditional write attempts before giving up (with <see cref="OptimisticRetry"/>'s
    /// jittered backoff between them). Each lost race means another writer succeeded, so a handful of
    /// attempts outlasts any realistic number of operators.
    /// </summary>
    public const int MaxAttempts = 5;

    public async Task<string> InitAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var document = new KeyRingDocument(
            "v1",
            new Dictionary<string, string> { ["v1"] = KeyRingRules.GenerateKey() },
            KeyHistory.Empty.With("v1", _ => new KidHistory(now, now)));
        await store.WriteAsync(document, create: true, cancellationToken);
        return "v1";
    }

    public Task<string> AddAsync(CancellationToken cancellationToken) =>
        UpdateAsync(document =>
        {
            var kid = KeyRingRules.NextKid(document.Keys.Keys.Concat(document.History.Kids.Keys));
            var keys = new Dictionary<string, string>(document.Keys, StringComparer.Ordinal) { [kid] = KeyRingRules.GenerateKey() };
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            return (document with { Keys = keys, History = document.History.With(kid, _ => new KidHistory(now)) }, kid);
        }, cancellationToken);

    /// <summary>Makes <paramref name="kid"/> the signing key; false when it already was.</summary>
    public Task<bool> PromoteAsync(string kid, CancellationToken cancellationToken) =>
        UpdateAsync(document =>
        {
            RequireKid(document, kid);
            if (document.Active == kid)
            {
                return (null, false);
            }

            var now = time.GetUtcNow().ToUnixTimeSeconds();
            var history = document.History
                .With(document.Active, h => h with { Demoted = now })
                .With(kid, h => h with { Promoted = now, Demoted = null });
            return (document with { Active = kid, History = history }, true);
        }, cancellationToken);

    /// <summary>
    /// Removes <paramref name="kid"/>. With <paramref name="usage"/> (the jobs-manager's live tokens
    /// per kid) a kid that still has live tokens is unsafe too, whatever its history says.
    /// </summary>
    public Task RetireAsync(string kid, bool force, TokenTiming timing, IReadOnlyDictionary<string, KidUsageResponse>? usage, CancellationToken cancellationToken) =>
        UpdateAsync(document =>
        {
            RequireKid(document, kid);
            RefuseRetiringActive(document, kid);

            var safety = RetireSafety(document, kid, timing, usage);
            if (!safety.Safe && !force)
            {
                throw new CliException($"refusing to retire '{kid}': {safety.Reason}; pass --force if you know no such token is in use", ExitCodes.Refused);
            }

            var keys = document.Keys.Where(k => k.Key != kid).ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
            var now = time.GetUtcNow().ToUnixTimeSeconds();
            return (document with { Keys = keys, History = document.History.With(kid, h => h with { Retired = now }) }, true);
        }, cancellationToken);

    /// <summary>The one rule no --force overrides: the signing key is never retired.</summary>
    public static void RefuseRetiringActive(KeyRingDocument document, string kid)
    {
        if (document.Active == kid)
        {
            throw new CliException($"'{kid}' is the active key and cannot be retired; promote another key first", ExitCodes.Refused);
        }
    }

    public async Task<KeyRingDocument> ReadRequiredAsync(CancellationToken cancellationToken) =>
        await store.ReadAsync(cancellationToken) ?? throw new CliException($"there is no key ring in {store.Location}; run 'rpctl keys init' first");

    /// <summary>Every kid of the ring, then any kid only the jobs-manager still sees tokens of.</summary>
    public IReadOnlyList<KidStatus> Status(KeyRingDocument document, TokenTiming timing, IReadOnlyDictionary<string, KidUsageResponse>? usage)
    {
        var rows = new List<KidStatus>();
        foreach (var kid in document.Keys.Keys.OrderBy(KeyRingRules.KidNumber))
        {
            var live = usage is null ? null : usage.GetValueOrDefault(kid);
            var (safe, reason) = RetireSafety(document, kid, timing, usage);
            rows.Add(new KidStatus(kid, kid == document.Active, true, document.History.For(kid), usage is null ? null : live?.LiveTokens ?? 0, live?.LatestExpiry, safe, reason));
        }

        foreach (var orphan in (usage?.Values ?? []).Where(u => !document.Keys.ContainsKey(u.Kid) && u.LiveTokens > 0).OrderBy(u => KeyRingRules.KidNumber(u.Kid)))
        {
            rows.Add(new KidStatus(orphan.Kid, false, false, null, orphan.LiveTokens, orphan.LatestExpiry, false,
                "already retired, yet the jobs-manager reports live tokens signed with it: proxies refuse them (unknown_kid)"));
        }

        return rows;
    }

    /// <summary>
    /// Whether tokens signed with <paramref name="kid"/> can no longer be alive, and why not. Both
    /// witnesses must agree: the history (demoted at least one lifetime ago, or never promoted) and,
    /// when asked, the jobs-manager (no live token). The history alone is the floor because the
    /// jobs-manager only knows the tokens of jobs it still tracks.
    /// </summary>
    public (bool Safe, string Reason) RetireSafety(KeyRingDocument document, string kid, TokenTiming timing, IReadOnlyDictionary<string, KidUsageResponse>? usage = null)
    {
        if (document.Active == kid)
        {
            return (false, "it is the active key");
        }

        var problems = new List<string>();
        if (usage?.GetValueOrDefault(kid) is { LiveTokens: > 0 } live)
        {
            var until = live.LatestExpiry is { } expiry ? $", the last valid until {Format(expiry.ToUnixTimeSeconds())}" : string.Empty;
            // Unreachable jobs' tokens are live (not refreshed, not revoked): only the operator can end them.
            var unreachable = live.UnreachableTokens > 0
                ? $" ({live.UnreachableTokens} held by unreachable jobs outside the job namespaces: 'rpctl jobs stop NAME' revokes them)"
                : string.Empty;
            problems.Add($"the jobs-manager reports {live.LiveTokens} live token(s) signed with it{until}{unreachable}");
        }

        var (historySafe, historyReason) = HistorySafety(document, kid, timing);
        if (!historySafe)
        {
            problems.Add(historyReason);
        }

        if (problems.Count > 0)
        {
            return (false, string.Join("; ", problems));
        }

        var revoked = usage?.GetValueOrDefault(kid) is { RevokedTokens: > 0 } r ? $" ({r.RevokedTokens} revoked, which need no key)" : string.Empty;
        return (true, usage is null ? historyReason : historyReason + ", and the jobs-manager reports no live token" + revoked);
    }

    private (bool Safe, string Reason) HistorySafety(KeyRingDocument document, string kid, TokenTiming timing)
    {
        var history = document.History.For(kid);

        // A demotion without a promotion record is a kid that was active before rpctl kept history
        // (the chart's generated v1): it did sign tokens, so only its demotion time counts.
        if (history is { Promoted: null, Demoted: null })
        {
            return (true, "it never signed a token");
        }

        if (history?.Demoted is not { } demoted)
        {
            return (false, "there is no record of when it stopped signing, so tokens it signed may still be alive");
        }

        var aliveUntil = demoted + (long)timing.Lifetime.TotalSeconds + (long)timing.Leeway.TotalSeconds;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return now >= aliveUntil
            ? (true, "its last token has expired")
            : (false, $"it signed tokens until {Format(demoted)}, which may be valid until {Format(aliveUntil)} ({timing.Describe()})");
    }

    /// <summary>
    /// One verb as read → change → conditional write. On a conflict the verb runs again on the fresh
    /// ring, so its checks (the active key, retire safety, the next kid) see what is really there.
    /// A null document from <paramref name="change"/> means nothing to write.
    /// </summary>
    private async Task<T> UpdateAsync<T>(Func<KeyRingDocument, (KeyRingDocument? Next, T Result)> change, CancellationToken cancellationToken)
    {
        try
        {
            return await new OptimisticRetry(MaxAttempts, time).RunAsync(async (_, ct) =>
                {
                    var document = await ReadRequiredAsync(ct);
                    var (next, result) = change(document);
                    if (next is not null)
                    {
                        await store.WriteAsync(next, create: false, ct);
                    }

                    return result;
                },
                e => e is KeyRingConflictException,
                onConflict: null,
                cancellationToken);
        }
        catch (KeyRingConflictException e)
        {
            throw new CliException($"{e.Message}; it changed concurrently {MaxAttempts} times in a row, nothing was changed: retry", ExitCodes.Refused);
        }
    }

    private static void RequireKid(KeyRingDocument document, string kid)
    {
        if (!KeyRingRules.IsKid(kid))
        {
            throw new CliException($"'{kid}' is not a kid; kids look like v1, v2, …");
        }

        if (!document.Keys.ContainsKey(kid))
        {
            throw new CliException($"there is no key '{kid}' (the ring has {string.Join(", ", document.Keys.Keys.OrderBy(KeyRingRules.KidNumber))})", ExitCodes.Refused);
        }
    }

    private static string Format(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
