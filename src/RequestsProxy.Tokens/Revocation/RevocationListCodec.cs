using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Revocation;

/// <summary>The revocation list as a stored document (compact JSON, see <see cref="RevocationList.Serialize"/>).</summary>
public sealed class RevocationListCodec : IDocumentCodec<RevocationList>
{
    public static readonly RevocationListCodec Instance = new();

    public string Description => "revocation list";

    public RevocationList Empty => RevocationList.Empty;

    public bool TryParse(ReadOnlySpan<byte> content, out RevocationList document, out string error) => RevocationList.TryParse(content, out document, out error);

    public byte[] Serialize(RevocationList document) => document.Serialize();
}
