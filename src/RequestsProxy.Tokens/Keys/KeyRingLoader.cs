using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace RequestsProxy.Tokens.Keys;

/// <summary>
/// Reads a key ring folder laid out like a Kubernetes Secret volume. Kids come only from
/// enumerating the folder; a kid from a token is never turned into a path.
/// </summary>
public static class KeyRingLoader
{
    public static KeyRingLoadResult Load(string directory, long generation = 1)
    {
        try
        {
            return LoadCore(directory, generation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return KeyRingLoadResult.Fail($"key ring folder '{directory}' could not be read: {e.Message}");
        }
    }

    private static KeyRingLoadResult LoadCore(string directory, long generation)
    {
        if (!Directory.Exists(directory))
        {
            return KeyRingLoadResult.Fail($"key ring folder '{directory}' does not exist");
        }

        string? active = null;
        var keys = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(directory))
        {
            var name = Path.GetFileName(path);

            // Kubernetes' atomic writer keeps ..data and ..<timestamp> beside the keys; dot names are never keys.
            if (name.StartsWith('.') || (name != KeyRingRules.ActiveFileName && !KeyRingRules.IsKid(name)))
            {
                continue;
            }

            byte[] content;
            try
            {
                content = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return KeyRingLoadResult.Fail($"key ring file '{name}' could not be read: {e.Message}");
            }

            var trimmed = KeyRingRules.TrimTrailingWhitespace(content).ToArray();
            if (name == KeyRingRules.ActiveFileName)
            {
                active = Encoding.UTF8.GetString(trimmed).Trim();
            }
            else if (trimmed.Length < SigningKey.MinimumLength)
            {
                return KeyRingLoadResult.Fail($"key '{name}' is {trimmed.Length} bytes; at least {SigningKey.MinimumLength} are required");
            }
            else
            {
                keys[name] = trimmed;
            }
        }

        if (active is null)
        {
            return KeyRingLoadResult.Fail($"key ring folder '{directory}' has no '{KeyRingRules.ActiveFileName}' file");
        }

        if (!KeyRingRules.IsKid(active))
        {
            return KeyRingLoadResult.Fail($"'{KeyRingRules.ActiveFileName}' names '{Truncate(active)}', which is not a kid of the form v<N>");
        }

        if (!keys.ContainsKey(active))
        {
            return KeyRingLoadResult.Fail($"'{KeyRingRules.ActiveFileName}' names '{active}', but there is no key file '{active}'");
        }

        return KeyRingLoadResult.Ok(Build(active, keys, generation));
    }

    /// <summary>Builds a ring from key bytes already in memory (tests, the CLI, the Kubernetes Secret).</summary>
    public static KeyRing Build(string activeKid, IReadOnlyDictionary<string, byte[]> keys, long generation = 1)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (kid, key) in keys)
        {
            if (!KeyRingRules.IsKid(kid) || key.Length < SigningKey.MinimumLength)
            {
                throw new ArgumentException($"key '{kid}' must be named v<N> and hold at least {SigningKey.MinimumLength} bytes", nameof(keys));
            }
        }

        if (!keys.ContainsKey(activeKid))
        {
            throw new ArgumentException($"the active kid '{activeKid}' is not among the keys", nameof(activeKid));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(activeKid + "\n"));
        foreach (var (kid, key) in keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(kid + "\n"));
            hash.AppendData(SHA256.HashData(key));
        }

        var frozen = keys.ToFrozenDictionary(k => k.Key, k => new SigningKey(k.Key, k.Value), StringComparer.Ordinal);
        return new KeyRing(activeKid, frozen, Convert.ToHexStringLower(hash.GetHashAndReset()), generation);
    }

    private static string Truncate(string value) => value.Length <= 32 ? value : value[..32] + "…";
}
