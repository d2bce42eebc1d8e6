namespace RequestsProxy.JobsManager.Jobs;

/// <summary>Live tokens per kid over the job table: what decides whether a key may be retired.</summary>
internal static class KeyUsageReport
{
    /// <summary>Every kid of the ring (zero when unused) and every kid a live token still carries.</summary>
    public static KeyUsage Build(IEnumerable<JobRecord> jobs, IEnumerable<string> ringKids, string? activeKid, DateTimeOffset now, TimeSpan leeway)
    {
        var ring = ringKids.ToHashSet(StringComparer.Ordinal);
        var byKid = new Dictionary<string, (int Live, int Current, DateTimeOffset? Latest)>(StringComparer.Ordinal);
        foreach (var kid in ring)
        {
            byKid[kid] = (0, 0, null);
        }

        foreach (var job in jobs)
        {
            if (job.TokensRevoked)
            {
                // Revoked tokens no longer verify, so they do not hold a key back from retirement.
                continue;
            }

            var (history, current) = job.Snapshot();
            foreach (var token in history)
            {
                if (token.Kid is not { } kid || !token.IsUnexpired(now, leeway))
                {
                    continue;
                }

                var usage = byKid.GetValueOrDefault(kid);
                var latest = usage.Latest is { } l && l > token.ExpiresAt ? l : token.ExpiresAt;
                byKid[kid] = (usage.Live + 1, usage.Current + (ReferenceEquals(token, current) ? 1 : 0), latest);
            }
        }

        var keys = byKid
            .OrderBy(k => Tokens.Keys.KeyRingRules.KidNumber(k.Key))
            .Select(k => new KidUsage(k.Key, k.Key == activeKid, ring.Contains(k.Key), k.Value.Live, k.Value.Current, k.Value.Latest))
            .ToList();
        return new KeyUsage(activeKid, keys);
    }
}
