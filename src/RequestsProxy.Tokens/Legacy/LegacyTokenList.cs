using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Legacy;

/// <summary>
/// The live legacy opaque tokens (DESIGN §12, docs/operations.md "Flipping to stateless tokens"):
/// a JSON array of <c>{"digest":…,"sub":…,"scope":…,"until":…}</c> objects, kept by the jobs-manager
/// in a ConfigMap that every proxy mounts. Immutable; lookups by digest are O(1) and allocation-free.
/// </summary>
public sealed class LegacyTokenList
{
    public const string FileName = "legacy-tokens.json";

    public static readonly LegacyTokenList Empty = new([]);

    private readonly FrozenDictionary<string, LegacyTokenEntry> _byDigest;
    private readonly FrozenDictionary<string, LegacyTokenEntry>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public LegacyTokenList(IReadOnlyList<LegacyTokenEntry> entries)
    {
        Entries = entries;
        var byDigest = new Dictionary<string, LegacyTokenEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            byDigest[entry.Digest] = entry;
        }

        _byDigest = byDigest.ToFrozenDictionary(StringComparer.Ordinal);
        _bySpan = _byDigest.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<LegacyTokenEntry> Entries { get; }

    public int Count => _byDigest.Count;

    /// <summary>The entry of this digest when it is still live at <paramref name="nowSeconds"/>.</summary>
    public LegacyTokenEntry? Find(ReadOnlySpan<char> digest, long nowSeconds) =>
        _bySpan.TryGetValue(digest, out var entry) && entry.IsLive(nowSeconds) ? entry : null;

    public bool Contains(ReadOnlySpan<char> digest) => _bySpan.ContainsKey(digest);

    public IEnumerable<LegacyTokenEntry> OfSubject(string sub) => Entries.Where(e => string.Equals(e.Sub, sub, StringComparison.Ordinal));

    /// <summary>Adds (or replaces, by digest) an entry.</summary>
    public LegacyTokenList Add(LegacyTokenEntry entry) =>
        new([.. Entries.Where(e => !string.Equals(e.Digest, entry.Digest, StringComparison.Ordinal)), entry]);

    /// <summary>Drops every entry of a job (it was stopped); the same list when it had none.</summary>
    public LegacyTokenList RemoveSubject(string sub, out int removed)
    {
        var kept = Entries.Where(e => !string.Equals(e.Sub, sub, StringComparison.Ordinal)).ToList();
        removed = Entries.Count - kept.Count;
        return removed == 0 ? this : new LegacyTokenList(kept);
    }

    /// <summary>Ends the entry of one token at <paramref name="until"/> (unless it ends sooner); the same list when nothing changed.</summary>
    public LegacyTokenList EndDigest(string digest, long until) =>
        Entries.Any(e => string.Equals(e.Digest, digest, StringComparison.Ordinal) && (e.Until is not { } current || current > until))
            ? new LegacyTokenList([.. Entries.Select(e => string.Equals(e.Digest, digest, StringComparison.Ordinal) && (e.Until is not { } current || current > until) ? e with { Until = until } : e)])
            : this;

    /// <summary>
    /// Ends every entry of a job at <paramref name="until"/> (it now holds a signed token). An entry
    /// already ending sooner keeps its end. The same list when nothing changed.
    /// </summary>
    public LegacyTokenList EndSubject(string sub, long until, out int changed)
    {
        changed = 0;
        var next = new List<LegacyTokenEntry>(Entries.Count);
        foreach (var entry in Entries)
        {
            if (string.Equals(entry.Sub, sub, StringComparison.Ordinal) && (entry.Until is not { } current || current > until))
            {
                next.Add(entry with { Until = until });
                changed++;
            }
            else
            {
                next.Add(entry);
            }
        }

        return changed == 0 ? this : new LegacyTokenList(next);
    }

    /// <summary>Drops entries that ended before <paramref name="nowSeconds"/>; the same list when none did.</summary>
    public LegacyTokenList Prune(long nowSeconds, out int removed)
    {
        var kept = Entries.Where(e => e.IsLive(nowSeconds)).ToList();
        removed = Entries.Count - kept.Count;
        return removed == 0 ? this : new LegacyTokenList(kept);
    }

    /// <summary>Parses the file's content; false with a reason for anything but a valid list.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out LegacyTokenList list, out string error)
    {
        var parsed = JsonArrayDocument.TryParse<LegacyTokenEntry>(json, "the legacy token list", TryParseEntry, out var entries, out error);
        list = parsed ? new LegacyTokenList(entries) : Empty;
        return parsed;
    }

    private static bool TryParseEntry(JsonElement element, out LegacyTokenEntry entry, out string error)
    {
        entry = null!;
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = $"expected an object {{\"digest\",\"sub\",\"scope\"}}, found {element.ValueKind}";
            return false;
        }

        string? digest = null, sub = null, scope = null;
        long? until = null;
        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "digest" or "sub" or "scope" when value.ValueKind != JsonValueKind.String:
                    error = $"\"{property.Name}\" must be a string";
                    return false;
                case "digest":
                    digest = value.GetString();
                    break;
                case "sub":
                    sub = value.GetString();
                    break;
                case "scope":
                    scope = value.GetString();
                    break;
                case "until" when value.ValueKind == JsonValueKind.Null:
                    break;
                case "until" when value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d):
                    // A fractional end rounds down: ending early is safe, late is not.
                    until = (long)Math.Floor(Math.Clamp(d, long.MinValue, long.MaxValue));
                    break;
                case "until":
                    error = "\"until\" must be a number (Unix seconds)";
                    return false;
                default:
                    break;
            }
        }

        if (digest is null || !LegacyTokenDigest.IsValid(digest))
        {
            error = "\"digest\" must be the 43-character base64url SHA-256 of the token";
            return false;
        }

        if (string.IsNullOrEmpty(sub))
        {
            error = "\"sub\" is required";
            return false;
        }

        entry = new LegacyTokenEntry(digest, sub, scope ?? "", until);
        error = "";
        return true;
    }

    /// <summary>The largest <c>until</c> an end writes in this format's lifetime: Unix seconds of 10 digits (until the year 2286).</summary>
    public const long LatestUntil = 9_999_999_999;

    /// <summary>
    /// The size of <see cref="Serialize"/> once every entry that has no <c>until</c> gets one: what ending the
    /// whole list needs, so a list admitted at this size can always be ended (an end only ever adds the member or shortens it).
    /// </summary>
    public long SizeWhenEveryEntryEnded() =>
        new LegacyTokenList([.. Entries.Select(e => e.Until is null ? e with { Until = LatestUntil } : e)]).Serialize().LongLength;

    /// <summary>The list as indented JSON, one entry per line (the ConfigMap's and the local file's form).</summary>
    public byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (var entry in Entries)
            {
                writer.WriteStartObject();
                writer.WriteString("digest", entry.Digest);
                writer.WriteString("sub", entry.Sub);
                writer.WriteString("scope", entry.Scope);
                if (entry.Until is { } until)
                {
                    writer.WriteNumber("until", until);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }
}
