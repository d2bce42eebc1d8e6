namespace RequestsProxy.Demo;

/// <summary>One request a training job made, as it writes it to its events file (JSON lines).</summary>
/// <param name="At">Unix milliseconds when the answer (or the connection error) came.</param>
/// <param name="Status">HTTP status; 0 for a connection error (the proxy was down); <see cref="Sending"/>
/// for the line a job writes before a logical request, so a request cut short by the job's stop is known.</param>
/// <param name="Reason">The error_description of a 401/403, if any.</param>
/// <param name="Kid">The kid of the token the request carried.</param>
/// <param name="Key">The Idempotency-Key of the logical request (the same on every attempt).</param>
internal sealed record WorkerEvent(string Job, long At, int Status, string? Reason, string? Kid, string? Key = null)
{
    public const int Sending = -1;
}
