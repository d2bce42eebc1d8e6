using System.Text.Json;

namespace RequestsProxy.Tokens.Jwt;

/// <summary>
/// Finds duplicate member names at any depth of a JSON document without allocating: the
/// unescaped names of every open object live in a caller-provided buffer.
/// </summary>
internal ref struct JsonMemberTracker
{
    private readonly Span<byte> _names;
    private readonly Span<int> _entries; // (offset, length) pairs into _names
    private readonly Span<int> _frames;  // (first entry, names used) per open object
    private int _namesUsed;
    private int _entryCount;
    private int _depth;

    public JsonMemberTracker(Span<byte> names, Span<int> entries, Span<int> frames)
    {
        _names = names;
        _entries = entries;
        _frames = frames;
    }

    public void Reset()
    {
        _namesUsed = 0;
        _entryCount = 0;
        _depth = 0;
    }

    public bool Push()
    {
        if ((_depth + 1) * 2 > _frames.Length)
        {
            return false;
        }

        _frames[_depth * 2] = _entryCount;
        _frames[(_depth * 2) + 1] = _namesUsed;
        _depth++;
        return true;
    }

    public void Pop()
    {
        if (_depth == 0)
        {
            return;
        }

        _depth--;
        _entryCount = _frames[_depth * 2];
        _namesUsed = _frames[(_depth * 2) + 1];
    }

    /// <summary>Records the property name under the reader; false when it repeats a name of the same object (or space ran out).</summary>
    public bool TryAdd(ref Utf8JsonReader reader, out ReadOnlySpan<byte> name)
    {
        name = default;
        if (_depth == 0 || (_entryCount + 1) * 2 > _entries.Length)
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
        for (var i = _frames[(_depth - 1) * 2]; i < _entryCount; i++)
        {
            if (_entries[(i * 2) + 1] == length && _names.Slice(_entries[i * 2], length).SequenceEqual(name))
            {
                return false;
            }
        }

        _entries[_entryCount * 2] = _namesUsed;
        _entries[(_entryCount * 2) + 1] = length;
        _entryCount++;
        _namesUsed += length;
        return true;
    }
}
