namespace RequestsProxy.Client;

/// <summary>
/// How a <see cref="RequestsProxyHandler"/> keeps the client contract. Every value has a default;
/// with none set, the token comes from the pod's environment (<see cref="RequestsProxyEnvironment"/>).
/// </summary>
public sealed class RequestsProxyClientOptions
{
    /// <summary>The token file; null: <c>REQUESTS_PROXY_TOKEN_FILE</c>, read when the handler is built.</summary>
    public string? TokenFile { get; set; }

    /// <summary>A fixed token (never refreshes); used only when there is no token file.
    /// Null: <c>REQUESTS_PROXY_TOKEN</c>.</summary>
    public string? Token { get; set; }

    /// <summary>Bounds one logical request, every retry and wait included. Default 5 minutes: a
    /// proxy pod replaced by Kubernetes is back well within it.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Bounds each attempt (connect, send, and reading the whole answer). Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first backoff step after a connection error or a 5xx without Retry-After. Default 100 ms.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest backoff step (jitter spreads steps below it). Default 5 s.</summary>
    public TimeSpan BackoffCap { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A Retry-After longer than this is waited for this long. Default 120 s.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(120);

    internal void Validate()
    {
        Positive(Deadline, nameof(Deadline));
        Positive(AttemptTimeout, nameof(AttemptTimeout));
        Positive(BackoffBase, nameof(BackoffBase));
        Positive(BackoffCap, nameof(BackoffCap));
        Positive(MaxRetryAfter, nameof(MaxRetryAfter));
        if (BackoffCap < BackoffBase)
        {
            throw new ArgumentOutOfRangeException(nameof(BackoffCap), BackoffCap, $"{nameof(BackoffCap)} must not be below {nameof(BackoffBase)} ({BackoffBase})");
        }

        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and at most a day");
            }
        }
    }
}
