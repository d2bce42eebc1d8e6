namespace RequestsProxy.Cli.Keys;

/// <summary>The life of one kid, as NumericDates; null where it has not happened (or is unknown).</summary>
internal sealed record KidHistory(long? Added = null, long? Promoted = null, long? Demoted = null);
