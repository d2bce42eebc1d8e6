namespace RequestsProxy.Tokens.Revocation;

/// <summary>A fixed list: for the CLI and tests.</summary>
public sealed class StaticRevocationSource(RevocationList list) : IRevocationSource
{
    public static readonly StaticRevocationSource None = new(RevocationList.Empty);

    public RevocationList Current => list;
}
