namespace RequestsProxy.Cli.Keys;

/// <summary>
/// One row of <c>rpctl keys status</c>. <see cref="LiveTokens"/> is null when the jobs-manager was
/// not asked; <see cref="InRing"/> is false for a kid the jobs-manager still sees tokens of
/// although it has left the ring (a forced retire).
/// </summary>
internal sealed record KidStatus(
    string Kid,
    bool Active,
    bool InRing,
    KidHistory? History,
    int? LiveTokens,
    DateTimeOffset? LatestExpiry,
    bool SafeToRetire,
    string Reason);
