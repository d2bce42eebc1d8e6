using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>Live tokens per kid over the job table: what decides whether a key may be retired.</summary>
internal static class KeyUsageReport
{
    /// <summary>
    /// Every kid of the ring (zero when unused) and every kid a live token still carries. A revoked token
    /// (its job's tokens revoked, or its jti in <paramref name="revoked"/>: a revocation by hand, or one whose
    /// ledger write was lost) is counted apart and does not hold its kid back: the proxy refuses it anyway.
    /// </summary>
    /// <param name="revoked">The revocation list as last read (null: only the jobs' own revoked flags count).</param>
    public static KeyUsage Build(IEnumerable<JobRecord> jobs, IEnumerable<string> ringKids, string? activeKid, DateTimeOffset now, TimeSpan leeway, RevocationList? revoked = null)
    {
        var ring = ringKids.ToHashSet(StringComparer.Ordinal);
        var byKid = new Dictionary<string, Count>(StringComparer.Ordinal);
        foreach (var kid in ring)
        {
            byKid[kid] = new Count();
        }

        foreach (var job in jobs)
        {
            if (job.Removed)
            {
                continue;
            }

            var (history, current) = job.Snapshot();
            foreach (var token in history)
            {
                if (token.Kid is not { } kid || !token.IsUnexpired(now, leeway))
                {
                    continue;
                }

                var usage = byKid.GetValueOrDefault(kid) ?? new Count();
                byKid[kid] = job.TokensRevoked || revoked?.Contains(token.Jti) == true
                    ? usage with { Revoked = usage.Revoked + 1 }
                    : usage with
                    {
                        Live = usage.Live + 1,
                        Current = usage.Current + (ReferenceEquals(token, current) ? 1 : 0),
                        Unreachable = usage.Unreachable + (job.State == JobState.Unreachable ? 1 : 0),
                        Latest = usage.Latest is { } l && l > token.ExpiresAt ? l : token.ExpiresAt,
                    };
            }
        }

        var keys = byKid
            .Where(k => ring.Contains(k.Key) || k.Value.Live > 0 || k.Value.Revoked > 0)
            .OrderBy(k => Tokens.Keys.KeyRingRules.KidNumber(k.Key))
            .Select(k => new KidUsage(k.Key, k.Key == activeKid, ring.Contains(k.Key), k.Value.Live, k.Value.Current, k.Value.Latest, k.Value.Revoked, k.Value.Unreachable))
            .ToList();
        return new KeyUsage(activeKid, keys);
    }

    private sealed record Count(int Live = 0, int Current = 0, DateTimeOffset? Latest = null, int Revoked = 0, int Unreachable = 0);
}
