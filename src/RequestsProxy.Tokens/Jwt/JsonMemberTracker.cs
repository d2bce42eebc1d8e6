using System.Text.Json;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Finds duplicate member names at any depth of a JSON document without allocating: the
/// unescaped names live in a caller-provided buffer, indexed by an open-addressing hash table
/// keyed by (object, name). Each name costs O(1) on average, so a forged token stuffed with
/// hundreds of same-length names is refused as fast as any other (finding A6: a linear scan per
/// name made such a token cost 340× a plain one before its signature was ever checked).
/// </summary>
internal ref struct JsonMemberTracker
{
    /// <summary>Bytes of JSON per member at the least (<c>"":0,</c>): bounds the entries a document can need.</summary>
    public const int MinBytesPerMember = 5;

    private readonly Span<byte> _names;
    private readonly Span<int> _entries; // (offset, length, object) per name, in document order
    private readonly Span<int> _table;   // entry index + 1 per slot, 0 = free; a power of two in length
    private readonly Span<int> _frames;  // the object number of each open object
    private int _namesUsed;
    private int _entryCount;
    private int _depth;
    private int _objects;

    /// <param name="names">At least as long as the document: names are never longer unescaped than written.</param>
    /// <param name="entries">Three ints per member (see <see cref="EntriesFor"/>).</param>
    /// <param name="table">A power of two, at least twice the members (see <see cref="TableFor"/>).</param>
    /// <param name="frames">One int per level of nesting.</param>
    public JsonMemberTracker(Span<byte> names, Span<int> entries, Span<int> table, Span<int> frames)
    {
        if (table.Length == 0 || (table.Length & (table.Length - 1)) != 0)
        {
            throw new ArgumentException("the hash table's length must be a power of two", nameof(table));
        }

        _names = names;
        _entries = entries;
        _table = table;
        _frames = frames;
        _table.Clear();
    }

    /// <summary>The ints of <c>entries</c> a document of this many bytes can need.</summary>
    public static int EntriesFor(int jsonBytes) => ((jsonBytes / MinBytesPerMember) + 2) * 3;

    /// <summary>The slots of <c>table</c> for a document of this many bytes: a power of two, load at most one half.</summary>
    public static int TableFor(int jsonBytes) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(((jsonBytes / MinBytesPerMember) + 2) * 2));

    public void Reset()
    {
        _table.Clear();
        _namesUsed = 0;
        _entryCount = 0;
        _depth = 0;
        _objects = 0;
    }

    public bool Push()
    {
        if (_depth + 1 > _frames.Length)
        {
            return false;
        }

        _frames[_depth] = ++_objects;
        _depth++;
        return true;
    }

    public void Pop()
    {
        // A closed object's names stay in the table: its number is never current again, so they never match.
        if (_depth > 0)
        {
            _depth--;
        }
    }

    /// <summary>Records the property name under the reader; false when it repeats a name of the same object (or space ran out).</summary>
    public bool TryAdd(ref Utf8JsonReader reader, out ReadOnlySpan<byte> name)
    {
        name = default;
        if (_depth == 0 || (_entryCount + 1) * 3 > _entries.Length || (_entryCount + 1) * 2 > _table.Length)
        {
            return false;
        }

        var free = _names[_namesUsed..];
        int length;
        if (reader.ValueIsEscaped)
        {
            if (reader.ValueSpan.Length > free.Length)
            {
                return false;
            }

            length = reader.CopyString(free);
        }
        else
        {
            var raw = reader.ValueSpan;
            if (!raw.TryCopyTo(free))
            {
                return false;
            }

            length = raw.Length;
        }

        name = free[..length];
        var current = _frames[_depth - 1];
        var mask = _table.Length - 1;
        // HashCode is seeded per process: nobody can precompute names that collide.
        var hash = new HashCode();
        hash.Add(current);
        hash.AddBytes(name);
        var slot = hash.ToHashCode() & mask;
        while (_table[slot] != 0)
        {
            var entry = (_table[slot] - 1) * 3;
            if (_entries[entry + 2] == current && _entries[entry + 1] == length && _names.Slice(_entries[entry], length).SequenceEqual(name))
            {
                return false;
            }

            slot = (slot + 1) & mask;
        }

        _table[slot] = _entryCount + 1;
        _entries[_entryCount * 3] = _namesUsed;
        _entries[(_entryCount * 3) + 1] = length;
        _entries[(_entryCount * 3) + 2] = current;
        _entryCount++;
        _namesUsed += length;
        return true;
    }
}
