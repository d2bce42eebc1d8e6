namespace RequestsProxy.Client;

/// <summary>
/// No HTTP answer from the proxy within the deadline: every attempt failed to connect, was cut,
/// or timed out. An <see cref="HttpRequestException"/>, so existing handlers of that type still catch it.
/// </summary>
public sealed class RequestsProxyUnavailableException : HttpRequestException
{
    public RequestsProxyUnavailableException()
    {
    }

    public RequestsProxyUnavailableException(string message)
        : base(message)
    {
    }

    public RequestsProxyUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public RequestsProxyUnavailableException(string message, Exception? innerException, int attempts, string? idempotencyKey)
        : base(message, innerException)
    {
        Attempts = attempts;
        IdempotencyKey = idempotencyKey;
    }

    /// <summary>How many times the request was sent.</summary>
    public int Attempts { get; }

    /// <summary>The key every attempt carried: send it again later and the upstream still counts the result once.</summary>
    public string? IdempotencyKey { get; }
}
