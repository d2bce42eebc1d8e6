using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>The legacy token list as a stored document (one entry per line, see <see cref="LegacyTokenList.Serialize"/>).</summary>
public sealed class LegacyTokenListCodec : IDocumentCodec<LegacyTokenList>
{
    public static readonly LegacyTokenListCodec Instance = new();

    public string Description => "legacy token list";

    public LegacyTokenList Empty => LegacyTokenList.Empty;

    public bool TryParse(ReadOnlySpan<byte> content, out LegacyTokenList document, out string error) => LegacyTokenList.TryParse(content, out document, out error);

    public byte[] Serialize(LegacyTokenList document) => document.Serialize();
}
