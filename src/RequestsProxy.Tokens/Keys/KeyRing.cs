using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace RequestsProxy.Tokens.Keys;

/// <summary>
/// An immutable snapshot of the key ring: the active kid and every key by kid.
/// Swapped as a whole; readers never lock.
/// </summary>
public sealed class KeyRing
{
    private readonly FrozenDictionary<string, SigningKey>.AlternateLookup<ReadOnlySpan<char>> _byKidSpan;

    public KeyRing(string activeKid, FrozenDictionary<string, SigningKey> keys, string fingerprint, long generation)
    {
        ActiveKid = activeKid;
        Keys = keys;
        Fingerprint = fingerprint;
        Generation = generation;
        _byKidSpan = keys.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string ActiveKid { get; }

    public SigningKey ActiveKey => Keys[ActiveKid];

    public FrozenDictionary<string, SigningKey> Keys { get; }

    /// <summary>SHA-256 over names and contents; equal fingerprints mean an unchanged ring.</summary>
    public string Fingerprint { get; }

    /// <summary>Increases with every load that changed the ring in this process.</summary>
    public long Generation { get; }

    public IEnumerable<string> Kids => Keys.Keys.OrderBy(KeyRingRules.KidNumber);

    public bool TryGetKey(string kid, [NotNullWhen(true)] out SigningKey? key) => Keys.TryGetValue(kid, out key);

    public bool TryGetKey(ReadOnlySpan<char> kid, [NotNullWhen(true)] out SigningKey? key) => _byKidSpan.TryGetValue(kid, out key);

    internal KeyRing WithGeneration(long generation) => new(ActiveKid, Keys, Fingerprint, generation);
}
