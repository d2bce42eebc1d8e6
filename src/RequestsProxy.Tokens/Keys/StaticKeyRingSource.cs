namespace RequestsProxy.Tokens.Keys;

/// <summary>A fixed ring: for the CLI, which runs once, and for tests.</summary>
public sealed class StaticKeyRingSource(KeyRing ring) : IKeyRingSource
{
    public KeyRing? Current => ring;

    public KeyRing? RefreshForUnknownKid() => ring;
}
