using System.Text.Json;

namespace RequestsProxy.Cluster.Workload;

/// <summary>The trainer's cumulative counts, printed as one JSON line (schema read by the cluster tests).</summary>
internal sealed class TrainerTally(string job)
{
    private readonly Dictionary<string, long> _okByKid = new(StringComparer.Ordinal);
    private long _requests;
    private long _ok;
    private long _unauthorized;
    private long _connectionErrors;
    private long _other;

    public void Record(int status, string? kid, string? reason)
    {
        _requests++;
        switch (status)
        {
            case 0:
                _connectionErrors++;
                break;
            case 401:
                _unauthorized++;
                Console.WriteLine(JsonSerializer.Serialize(new { @event = "unauthorized", job, kid, reason, at = DateTimeOffset.UtcNow }));
                break;
            case >= 200 and < 300:
                _ok++;
                var key = kid ?? "";
                _okByKid[key] = _okByKid.GetValueOrDefault(key) + 1;
                break;
            default:
                _other++;
                break;
        }
    }

    public void Print() => Console.WriteLine(JsonSerializer.Serialize(new
    {
        @event = "tally",
        job,
        requests = _requests,
        ok = _ok,
        unauthorized = _unauthorized,
        connectionErrors = _connectionErrors,
        other = _other,
        okByKid = _okByKid,
        at = DateTimeOffset.UtcNow,
    }));
}
