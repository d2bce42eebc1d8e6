namespace RequestsProxy.Tokens.Revocation;

/// <summary>Where the validator reads the revocation list in force.</summary>
public interface IRevocationSource
{
    RevocationList Current { get; }
}
