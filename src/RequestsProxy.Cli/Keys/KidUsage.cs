namespace RequestsProxy.Cli.Keys;

/// <summary>What the jobs-manager knows of one kid: unexpired, unrevoked tokens it signed, and when the last one expires.</summary>
internal sealed record KidUsage(string Kid, int LiveTokens, DateTimeOffset? LatestExpiry);
