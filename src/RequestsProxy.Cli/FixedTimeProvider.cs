namespace RequestsProxy.Cli;

/// <summary>A clock stopped at one instant: <c>--now</c>.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;

    public static TimeProvider From(double? unixSeconds) =>
        unixSeconds is { } s ? new FixedTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(s * 1000))) : System;
}
