using RequestsProxy.Tokens.IO;

namespace RequestsProxy.Tokens.Revocation;

/// <summary>
/// The revocation list of a mounted folder — <c>revoked.json</c>, and the shards
/// <c>revoked-N.json</c> when the list spans several ConfigMaps (their union) — read by
/// <see cref="MountedFileSource{T}"/>: polled off the request path, swapped as an immutable set,
/// each shard judged on its own (a corrupt or vanished shard keeps its last good entries).
/// </summary>
public sealed class RevocationSource : MountedFileSource<RevocationList>, IRevocationSource
{
    /// <param name="directory">The folder holding <c>revoked.json</c> and any <c>revoked-N.json</c> shards (the ConfigMap volume).</param>
    /// <param name="requiredShards">
    /// Null: whatever files exist (none yet is the empty list: a laptop, a local demo). N: the list
    /// spans exactly N ConfigMaps, mounted <c>optional</c> (the jobs-manager creates them), and the
    /// source is not ready until <c>revoked.json</c> and <c>revoked-1.json</c> … <c>revoked-(N−1).json</c>
    /// have each been read once — fail closed, never an empty list for a shard not synced yet.
    /// </param>
    public RevocationSource(string directory, TimeSpan pollInterval, TimeProvider time, int? requiredShards = null)
        : base(ShardFiles(directory, requiredShards), RevocationListCodec.Instance, Union, pollInterval, time)
    {
    }

    /// <summary>N of revoked-N.json; −1 for any other name.</summary>
    public static int ShardNumber(string fileName)
    {
        const string prefix = "revoked-";
        const string suffix = ".json";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(suffix, StringComparison.Ordinal))
        {
            return -1;
        }

        var digits = fileName.AsSpan(prefix.Length, fileName.Length - prefix.Length - suffix.Length);
        return digits.Length is > 0 and <= 4 && !digits.ContainsAnyExceptInRange('0', '9') ? int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    /// <summary>The name shard <paramref name="number"/> has in the proxy's folder.</summary>
    public static string ShardFileName(int number) => number == 0 ? RevocationFile.FileName : $"revoked-{number}.json";

    private static MountedFiles ShardFiles(string directory, int? requiredShards)
    {
        if (requiredShards is { } shards)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1, nameof(requiredShards));
        }

        var names = Enumerable.Range(0, requiredShards ?? 1).Select(ShardFileName).ToArray();
        return new MountedFiles(directory, names, Required: requiredShards is not null, ExtraOrder: ShardNumber);
    }

    private static RevocationList Union(IReadOnlyList<RevocationList> parts) =>
        parts.Count == 1 ? parts[0] : new RevocationList([.. parts.SelectMany(p => p.Entries)]);
}
