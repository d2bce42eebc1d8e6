using System.Text.Json;

namespace RequestsProxy.Tokens.IO;

/// <summary>
/// The shape both mounted lists share (revocations, legacy tokens): a strict JSON array whose
/// elements each parse or the whole document is refused, with the element's index in the reason —
/// a list read half-way would silently accept what the other half refuses.
/// </summary>
internal static class JsonArrayDocument
{
    public delegate bool ElementParser<T>(JsonElement element, out T entry, out string error);

    private static readonly JsonDocumentOptions Options = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 };

    /// <param name="what">The document's name in the reason ("the revocation list").</param>
    public static bool TryParse<T>(ReadOnlySpan<byte> json, string what, ElementParser<T> parse, out List<T> entries, out string error)
    {
        entries = [];
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), Options);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                error = $"{what} must be a JSON array";
                return false;
            }

            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (!parse(element, out var entry, out error))
                {
                    error = $"element {index}: {error}";
                    entries = [];
                    return false;
                }

                entries.Add(entry);
                index++;
            }

            error = "";
            return true;
        }
        catch (JsonException e)
        {
            entries = [];
            error = $"not valid JSON: {e.Message}";
            return false;
        }
    }
}
