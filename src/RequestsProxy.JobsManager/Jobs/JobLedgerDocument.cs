using System.Text.Json;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The durable ledger of live jobs (<c>{"version":1,"jobs":[…]}</c>): every job the jobs-manager
/// manages and every unexpired token it has held. Immutable; each change returns a new document
/// (or this one when nothing changed, so stores can skip the write).
/// </summary>
internal sealed record JobLedgerDocument(int Version, IReadOnlyList<JobLedgerEntry> Jobs)
{
    public const int CurrentVersion = 1;

    public static readonly JobLedgerDocument Empty = new(CurrentVersion, []);

    public JobLedgerEntry? Find(string name) => Jobs.FirstOrDefault(j => j.Name == name);

    /// <summary>Adds the entry, or replaces the entry of the same name (each job's writes are serialized by its gate).</summary>
    public JobLedgerDocument With(JobLedgerEntry entry)
    {
        var jobs = new List<JobLedgerEntry>(Jobs.Count + 1);
        var replaced = false;
        foreach (var job in Jobs)
        {
            if (job.Name == entry.Name)
            {
                jobs.Add(entry);
                replaced = true;
            }
            else
            {
                jobs.Add(job);
            }
        }

        if (!replaced)
        {
            jobs.Add(entry);
        }

        return new JobLedgerDocument(CurrentVersion, jobs);
    }

    public JobLedgerDocument Without(string name) =>
        Find(name) is null ? this : new JobLedgerDocument(CurrentVersion, [.. Jobs.Where(j => j.Name != name)]);

    /// <summary>
    /// Drops tokens whose exp + leeway has passed: the proxy refuses them anyway, so they need no
    /// revocation, and keeping them would only grow the ConfigMap toward its 1 MiB limit.
    /// </summary>
    public JobLedgerDocument WithoutExpiredTokens(DateTimeOffset now, TimeSpan leeway, out int removed)
    {
        removed = 0;
        List<JobLedgerEntry>? jobs = null;
        for (var i = 0; i < Jobs.Count; i++)
        {
            var job = Jobs[i];
            var kept = job.Tokens.Where(t => t.IsUnexpired(now, leeway)).ToList();
            if (kept.Count == job.Tokens.Count)
            {
                jobs?.Add(job);
                continue;
            }

            jobs ??= [.. Jobs.Take(i)];
            removed += job.Tokens.Count - kept.Count;
            jobs.Add(job with { Tokens = kept });
        }

        return jobs is null ? this : new JobLedgerDocument(CurrentVersion, jobs);
    }

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, JobLedgerJsonContext.Default.JobLedgerDocument);

    /// <summary>Parses and checks a stored ledger. Whitespace or nothing is an empty ledger (a fresh ConfigMap).</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out JobLedgerDocument document, out string error)
    {
        document = Empty;
        error = string.Empty;
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return true;
        }

        JobLedgerDocument? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(json, JobLedgerJsonContext.Default.JobLedgerDocument);
        }
        catch (JsonException e)
        {
            error = $"not a job ledger: {e.Message}";
            return false;
        }

        if (parsed is null)
        {
            error = "not a job ledger: null";
            return false;
        }

        if (parsed.Version != CurrentVersion)
        {
            error = $"unsupported ledger version {parsed.Version} (this jobs-manager reads version {CurrentVersion})";
            return false;
        }

        if (parsed.Jobs is null)
        {
            error = "'jobs' is missing";
            return false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in parsed.Jobs)
        {
            if (job is null || string.IsNullOrEmpty(job.Name) || job.Scope is null || job.Tokens is null)
            {
                error = "a job entry lacks 'name', 'scope' or 'tokens'";
                return false;
            }

            if (!names.Add(job.Name))
            {
                error = $"job '{job.Name}' is listed twice";
                return false;
            }

            if (job.Tokens.Any(t => t is null || string.IsNullOrEmpty(t.Jti) || string.IsNullOrEmpty(t.Sub)))
            {
                error = $"a token of job '{job.Name}' lacks 'jti' or 'sub'";
                return false;
            }
        }

        // Optional lists default to empty, so the rest of the code never sees null.
        document = parsed with
        {
            Jobs = [.. parsed.Jobs.Select(j => j with { Command = j.Command ?? [], Args = j.Args ?? [] })],
        };
        return true;
    }
}
