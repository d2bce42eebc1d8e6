using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// An immutable revocation list: the entries in file order and a frozen set for O(1) lookup.
/// The file is a JSON array of jti strings and/or <c>{"jti":…,"exp":…,"sub":…}</c> objects.
/// </summary>
public sealed class RevocationList
{
    public static readonly RevocationList Empty = new([]);

    private readonly FrozenSet<string> _jtis;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public RevocationList(IReadOnlyList<RevocationEntry> entries)
    {
        Entries = entries;
        _jtis = entries.Select(e => e.Jti).ToFrozenSet(StringComparer.Ordinal);
        _bySpan = _jtis.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<RevocationEntry> Entries { get; }

    /// <summary>Distinct revoked jtis.</summary>
    public int Count => _jtis.Count;

    public bool Contains(string jti) => _jtis.Contains(jti);

    public bool Contains(ReadOnlySpan<char> jti) => _bySpan.Contains(jti);

    /// <summary>Parses the file's content. Returns false with a reason for anything but a valid list.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out RevocationList list, out string error)
    {
        var parsed = JsonArrayDocument.TryParse<RevocationEntry>(json, "the revocation list", TryParseEntry, out var entries, out error);
        list = parsed ? new RevocationList(entries) : Empty;
        return parsed;
    }

    private static bool TryParseEntry(JsonElement element, out RevocationEntry entry, out string error)
    {
        entry = null!;
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                var bare = element.GetString()!;
                if (bare.Length == 0)
                {
                    error = "an empty jti";
                    return false;
                }

                entry = new RevocationEntry(bare);
                error = "";
                return true;

            case JsonValueKind.Object:
                string? jti = null;
                string? sub = null;
                long? exp = null;
                foreach (var property in element.EnumerateObject())
                {
                    switch (property.Name)
                    {
                        case "jti" when property.Value.ValueKind == JsonValueKind.String:
                            jti = property.Value.GetString();
                            break;
                        case "jti":
                            error = "\"jti\" must be a string";
                            return false;
                        case "sub" when property.Value.ValueKind == JsonValueKind.String:
                            sub = property.Value.GetString();
                            break;
                        case "sub" when property.Value.ValueKind == JsonValueKind.Null:
                            break;
                        case "sub":
                            error = "\"sub\" must be a string";
                            return false;
                        case "exp" when property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetDouble(out var d) && double.IsFinite(d):
                            // A fractional exp rounds up: pruning late is safe, pruning early is not.
                            exp = (long)Math.Ceiling(Math.Clamp(d, long.MinValue, long.MaxValue));
                            break;
                        case "exp" when property.Value.ValueKind == JsonValueKind.Null:
                            break;
                        case "exp":
                            error = "\"exp\" must be a number";
                            return false;
                        default:
                            break;
                    }
                }

                if (string.IsNullOrEmpty(jti))
                {
                    error = "an object without a \"jti\"";
                    return false;
                }

                entry = new RevocationEntry(jti, exp, sub);
                error = "";
                return true;

            default:
                error = $"expected a jti string or an object, found {element.ValueKind}";
                return false;
        }
    }

    /// <summary>
    /// The list as compact JSON on one line (the ConfigMap's and the local file's form): never
    /// indented, because every byte counts against a ConfigMap's 1 MiB.
    /// </summary>
    public byte[] Serialize()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartArray();
            foreach (var entry in Entries)
            {
                WriteEntry(writer, entry);
            }

            writer.WriteEndArray();
        }

        return [.. buffer.WrittenSpan, (byte)'\n'];
    }

    /// <summary>The bytes one entry adds to <see cref="Serialize"/>'s output (its JSON and a separating comma).</summary>
    public static int SerializedLength(RevocationEntry entry)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteEntry(writer, entry);
        }

        return buffer.WrittenCount + 1;
    }

    private static void WriteEntry(Utf8JsonWriter writer, RevocationEntry entry)
    {
        if (entry.Exp is null && entry.Sub is null)
        {
            writer.WriteStringValue(entry.Jti);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("jti", entry.Jti);
        if (entry.Exp is { } exp)
        {
            writer.WriteNumber("exp", exp);
        }

        if (entry.Sub is { } sub)
        {
            writer.WriteString("sub", sub);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Adds entries; a jti already present keeps one entry, with the later of the two exps
    /// (a bare jti without exp stays bare: never pruned).
    /// </summary>
    public RevocationList Add(IEnumerable<RevocationEntry> added)
    {
        var result = new List<RevocationEntry>(Entries);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < result.Count; i++)
        {
            index.TryAdd(result[i].Jti, i);
        }

        foreach (var entry in added)
        {
            if (index.TryGetValue(entry.Jti, out var at))
            {
                var existing = result[at];
                var exp = existing.Exp is null || entry.Exp is null ? null : (long?)Math.Max(existing.Exp.Value, entry.Exp.Value);
                result[at] = existing with { Exp = exp, Sub = existing.Sub ?? entry.Sub };
            }
            else
            {
                index[entry.Jti] = result.Count;
                result.Add(entry);
            }
        }

        return new RevocationList(result);
    }

    /// <summary>
    /// Drops entries whose token has expired beyond the leeway (now ≥ exp + leeway, the same rule the
    /// validator uses to refuse it). Entries are never dropped for any other reason.
    /// </summary>
    public RevocationList Prune(DateTimeOffset now, TimeSpan leeway, out int removed)
    {
        var nowSeconds = now.ToUnixTimeMilliseconds() / 1000.0;
        var kept = Entries.Where(e => e.Exp is null || nowSeconds < e.Exp.Value + leeway.TotalSeconds).ToList();
        removed = Entries.Count - kept.Count;
        return removed == 0 ? this : new RevocationList(kept);
    }
}
