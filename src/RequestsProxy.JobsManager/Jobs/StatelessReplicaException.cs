namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// A proxy replica has no registration endpoint (404: it runs stateless, mid-roll), so a legacy
/// token would be refused there until the mounted list reached it. Nothing was delivered.
/// </summary>
internal sealed class StatelessReplicaException(Uri replica, string subject)
    : HttpRequestException($"the proxy at {replica} runs stateless (no registration endpoint), so it would refuse '{subject}''s legacy token until the legacy token list reaches it", null, System.Net.HttpStatusCode.NotFound)
{
    public Uri Replica { get; } = replica;
}
