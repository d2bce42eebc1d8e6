namespace RequestsProxy.Cli.Keys;

/// <summary>
/// The life of one kid, as NumericDates; null where it has not happened (or is unknown). A retired
/// kid keeps its entry so its name is never given to a new key: a replica still holding the old
/// bytes under that kid would refuse the new key's tokens as bad_signature, with no unknown-kid
/// re-read to rescue them, and the kid metrics could not tell the two keys apart.
/// </summary>
internal sealed record KidHistory(long? Added = null, long? Promoted = null, long? Demoted = null, long? Retired = null);
