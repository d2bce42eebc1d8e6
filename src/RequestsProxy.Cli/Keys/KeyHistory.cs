using System.Text.Json;
using System.Text.Json.Serialization;

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// When each kid was added, promoted and demoted (NumericDates). It tells whether a retire is
/// safe: a kid stops signing when demoted, and its last token dies one lifetime later.
/// </summary>
internal sealed record KeyHistory(IReadOnlyDictionary<string, KidHistory> Kids)
{
    public static readonly KeyHistory Empty = new(new Dictionary<string, KidHistory>());

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    // An annotation is read in `kubectl get -o yaml`; one line reads better there than an indented block.
    private static readonly JsonSerializerOptions CompactJson = new(Json) { WriteIndented = false };

    public KidHistory? For(string kid) => Kids.TryGetValue(kid, out var h) ? h : null;

    public KeyHistory With(string kid, Func<KidHistory, KidHistory> change)
    {
        var copy = new Dictionary<string, KidHistory>(Kids, StringComparer.Ordinal);
        copy[kid] = change(For(kid) ?? new KidHistory());
        return new KeyHistory(copy);
    }

    public string Serialize(bool indented = true) => JsonSerializer.Serialize(Kids, indented ? Json : CompactJson);

    /// <summary>Unreadable history is treated as none: every retire then needs --force.</summary>
    public static KeyHistory Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Empty;
        }

        try
        {
            var kids = JsonSerializer.Deserialize<Dictionary<string, KidHistory>>(json, Json);
            return kids is null ? Empty : new KeyHistory(kids);
        }
        catch (JsonException)
        {
            return Empty;
        }
    }
}
