using System.Text;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>The <c>issuing</c> marker as a stored document: one word and a newline; nothing stored is <see cref="LegacyIssuer.Unknown"/>.</summary>
public sealed class LegacyIssuerCodec : IDocumentCodec<LegacyIssuer>
{
    public static readonly LegacyIssuerCodec Instance = new();

    public string Description => "legacy token issuing marker";

    public LegacyIssuer Empty => LegacyIssuer.Unknown;

    public bool TryParse(ReadOnlySpan<byte> content, out LegacyIssuer document, out string error)
    {
        if (content.Length <= 64 && LegacyIssuer.TryParse(Encoding.UTF8.GetString(content), out document))
        {
            error = "";
            return true;
        }

        document = LegacyIssuer.Unknown;
        error = "expected 'opaque' or 'closed'";
        return false;
    }

    public byte[] Serialize(LegacyIssuer document) => Encoding.UTF8.GetBytes(document.Value + "\n");
}
