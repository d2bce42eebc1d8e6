namespace RequestsProxy.Tokens.Keys;

/// <summary>Where the issuer and the validator get the current key ring from.</summary>
public interface IKeyRingSource
{
    /// <summary>The ring in force, or null while no valid ring has ever been loaded.</summary>
    KeyRing? Current { get; }

    /// <summary>
    /// A token named a kid the ring lacks: re-read now if allowed (rate-limited), and return
    /// the ring in force afterwards.
    /// </summary>
    KeyRing? RefreshForUnknownKid();
}
