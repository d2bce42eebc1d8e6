namespace RequestsProxy.JobsManager.Audit;

/// <summary>
/// Who asked for what the audit trail records. The admin API sets it for the length of one request
/// (the remote address, and the actor the client names in <see cref="ActorHeader"/>); work the
/// jobs-manager does by itself (refresh, rotation, finished-job revocation, start-up) runs with
/// <see cref="Self"/>. Carried as an async-local so the collaborators' signatures stay about jobs.
/// </summary>
internal static class AuditCaller
{
    /// <summary>Optional request header naming the human or system behind an admin call (rpctl sends <c>user@host</c>).</summary>
    public const string ActorHeader = JobsApi.JobsApiClient.ActorHeader;

    /// <summary>The caller of work nobody asked for over the API.</summary>
    public const string Self = "jobs-manager";

    /// <summary>An actor name longer than this is cut: the header is the caller's word, not ours.</summary>
    public const int MaxActorLength = 128;

    private static readonly AsyncLocal<string?> s_current = new();

    public static string Current => s_current.Value ?? Self;

    /// <summary>Names the caller until the returned scope is disposed.</summary>
    public static IDisposable Begin(string caller)
    {
        var previous = s_current.Value;
        s_current.Value = caller;
        return new Scope(previous);
    }

    /// <summary>"api 10.1.2.3" or "api 10.1.2.3 as alice@laptop" (the actor is claimed, not proven: only the admin token is).</summary>
    public static string Describe(HttpContext http)
    {
        var remote = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var actor = Printable(http.Request.Headers[ActorHeader].ToString());
        return actor.Length == 0 ? $"api {remote}" : $"api {remote} as {actor}";
    }

    // Keeps the log line one line and bounded whatever the header holds.
    private static string Printable(string value) => new([.. value.Where(c => c is > ' ' and < (char)0x7f).Take(MaxActorLength)]);

    private sealed class Scope(string? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
