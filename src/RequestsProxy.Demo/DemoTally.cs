using System.Text.Json;

namespace RequestsProxy.Demo;

/// <summary>
/// Reads the jobs' event files as they grow and classifies every answer. A 401/403 counts as
/// "refused with a valid token" unless the job had been stopped before it (then the token was
/// revoked on purpose, and only a <c>revoked</c> refusal is expected).
/// </summary>
internal sealed class DemoTally(string eventsDirectory)
{
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _stoppedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobStreak> _streaks = new(StringComparer.Ordinal);
    private readonly HashSet<(string Job, string Key)> _sentKeys = [];
    private readonly HashSet<(string Job, string Key)> _acceptedKeys = [];
    private readonly Lock _lock = new();

    public long Sent { get; private set; }

    public long Accepted { get; private set; }

    public long RefusedWithValidToken { get; private set; }

    public long RefusedAfterRevocation { get; private set; }

    public long ConnectionErrors { get; private set; }

    public long OtherErrors { get; private set; }

    /// <summary>The longest time one job went without a successful answer because the proxy was unreachable.</summary>
    public TimeSpan LongestOutage { get; private set; }

    public Dictionary<string, long> RefusalReasons { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> AcceptedByKid { get; } = new(StringComparer.Ordinal);

    public void MarkStopped(string job, DateTimeOffset at)
    {
        lock (_lock)
        {
            _stoppedAt[job] = at.ToUnixTimeMilliseconds();
        }
    }

    /// <summary>Reads what the event files gained since the last call.</summary>
    public void Update()
    {
        lock (_lock)
        {
            if (!Directory.Exists(eventsDirectory))
            {
                return;
            }

            foreach (var file in Directory.EnumerateFiles(eventsDirectory, "*.jsonl"))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                stream.Seek(_offsets.GetValueOrDefault(file), SeekOrigin.Begin);
                using var reader = new StreamReader(stream);
                var consumed = _offsets.GetValueOrDefault(file);
                while (reader.ReadLine() is { } line)
                {
                    // A line still being written has no newline yet: leave it for the next read.
                    consumed += System.Text.Encoding.UTF8.GetByteCount(line) + 1;
                    if (consumed > stream.Length)
                    {
                        consumed -= System.Text.Encoding.UTF8.GetByteCount(line) + 1;
                        break;
                    }

                    if (JsonSerializer.Deserialize(line, DemoJson.Default.WorkerEvent) is { } e)
                    {
                        Count(e);
                    }
                }

                _offsets[file] = consumed;
            }
        }
    }

    /// <summary>
    /// Compares the results the upstream counted with what the jobs were told: every accepted
    /// result must be there once, and anything else there must be a result its job sent but was
    /// stopped before it heard the answer (delivered, never acknowledged).
    /// </summary>
    public ResultsCheck Reconcile(IReadOnlyCollection<(string Subject, string Key)> counted)
    {
        lock (_lock)
        {
            var atUpstream = counted.ToHashSet();
            var lost = _acceptedKeys.Count(k => !atUpstream.Contains(k));
            var unacknowledged = atUpstream.Where(k => !_acceptedKeys.Contains(k)).ToList();
            var whileStopping = unacknowledged.Count(k => _sentKeys.Contains(k) && _stoppedAt.ContainsKey(k.Subject));
            return new ResultsCheck(_acceptedKeys.Count, lost, whileStopping, unacknowledged.Count - whileStopping);
        }
    }

    private void Count(WorkerEvent e)
    {
        if (e.Status == WorkerEvent.Sending)
        {
            if (e.Key is { } sending)
            {
                _sentKeys.Add((e.Job, sending));
            }

            return;
        }

        Sent++;
        var streak = _streaks.TryGetValue(e.Job, out var s) ? s : _streaks[e.Job] = new JobStreak();
        switch (e.Status)
        {
            case >= 200 and < 300:
                Accepted++;
                if (e.Key is { } key)
                {
                    _acceptedKeys.Add((e.Job, key));
                }

                var kind = e.Kid ?? "legacy opaque";
                AcceptedByKid[kind] = AcceptedByKid.GetValueOrDefault(kind) + 1;
                if (streak.OutageSince is { } since)
                {
                    var outage = TimeSpan.FromMilliseconds(e.At - since);
                    LongestOutage = outage > LongestOutage ? outage : LongestOutage;
                }

                streak.LastSuccess = e.At;
                streak.OutageSince = null;
                break;
            case 0 or 502 or 503:
                ConnectionErrors++;
                streak.OutageSince ??= streak.LastSuccess ?? e.At;
                break;
            case 401 or 403:
                var stopped = _stoppedAt.TryGetValue(e.Job, out var at) && e.At >= at;
                if (stopped && e.Reason == "revoked")
                {
                    RefusedAfterRevocation++;
                }
                else
                {
                    RefusedWithValidToken++;
                    var reason = $"{e.Status} {e.Reason ?? "-"}";
                    RefusalReasons[reason] = RefusalReasons.GetValueOrDefault(reason) + 1;
                }

                break;
            default:
                OtherErrors++;
                break;
        }
    }

    private sealed class JobStreak
    {
        public long? LastSuccess { get; set; }

        public long? OutageSince { get; set; }
    }
}
