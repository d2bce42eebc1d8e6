using System.Net;

namespace RequestsProxy.JobsApi;

/// <summary>A call to the jobs-manager did not work; the message says why, in the API's own words when it answered.</summary>
public sealed class JobsApiException(string message, HttpStatusCode? status = null) : Exception(message)
{
    /// <summary>The HTTP status of the refusal; null when the jobs-manager did not answer (or not with JSON).</summary>
    public HttpStatusCode? Status { get; } = status;

    /// <summary>409: the request conflicts with the jobs-manager's state (a refusal, not a mistake).</summary>
    public bool IsConflict => Status == HttpStatusCode.Conflict;
}
