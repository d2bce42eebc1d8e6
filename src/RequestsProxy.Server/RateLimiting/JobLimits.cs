namespace RequestsProxy.Server.RateLimiting;

/// <summary>
/// What one job (token <c>sub</c>) may do on one route in one proxy replica: a token bucket of
/// <see cref="Burst"/> requests refilled at <see cref="RequestsPerSecond"/>, and at most
/// <see cref="Concurrent"/> requests in flight. Zero turns a limit off.
/// </summary>
internal sealed record JobLimits(double RequestsPerSecond, int Burst, int Concurrent)
{
    public static readonly JobLimits None = new(0, 0, 0);

    public bool LimitsRate => RequestsPerSecond > 0;

    public bool LimitsConcurrency => Concurrent > 0;

    public bool IsUnlimited => !LimitsRate && !LimitsConcurrency;

    /// <summary>One second's worth: what a bucket holds when no burst is configured.</summary>
    public static int DefaultBurst(double requestsPerSecond) =>
        requestsPerSecond <= 0 ? 0 : (int)Math.Clamp(Math.Ceiling(requestsPerSecond), 1, int.MaxValue);
}
