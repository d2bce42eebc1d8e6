using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Jobs;

public sealed class ShardedRevocationStoreTests
{
    [Fact]
    public async Task Update_NewEntries_EachInItsHomeShardAndTheUnionReadBack()
    {
        var shards = Shards(4);
        var store = new ShardedRevocationStore(shards, DocumentLimits.ConfigMapBytes);
        var entries = Enumerable.Range(0, 200).Select(i => Entry($"jti-{i}")).ToList();

        var snapshot = await store.UpdateAsync(l => l.Add(entries), CancellationToken.None);

        Assert.Equal(200, snapshot.Document.Count);
        for (var s = 0; s < 4; s++)
        {
            Assert.NotEmpty(shards[s].Document.Entries);
            Assert.All(shards[s].Document.Entries, e => Assert.Equal(s, ShardedRevocationStore.HomeShard(e.Jti, 4)));
        }

        Assert.Equal(200, (await store.ReadAsync(CancellationToken.None)).Document.Count);
        Assert.Equal(shards.Sum(s => s.Document.Serialize().LongLength), snapshot.SizeBytes);
    }

    [Fact]
    public async Task Update_HomeShardFull_EntrySpillsToAnotherShard()
    {
        var shards = Shards(2);
        var capacity = 40L * RevocationList.SerializedLength(Entry("jti-00000")) + 8;
        var store = new ShardedRevocationStore(shards, capacity);
        var home0 = Enumerable.Range(0, 1000).Select(i => $"jti-{i:D5}").Where(j => ShardedRevocationStore.HomeShard(j, 2) == 0).Take(60).ToList();

        var snapshot = await store.UpdateAsync(l => l.Add([.. home0.Select(Entry)]), CancellationToken.None);

        Assert.Equal(60, snapshot.Document.Count);
        Assert.Equal(40, shards[0].Document.Count);
        Assert.Equal(20, shards[1].Document.Count);
        Assert.All(shards, s => Assert.True(s.Document.Serialize().LongLength <= capacity));
    }

    [Fact]
    public async Task Update_NoRoomAnywhere_ThrowsNamingTheCapacityAndKeepsWhatFit()
    {
        var shards = Shards(2);
        var capacity = 10L * RevocationList.SerializedLength(Entry("jti-00000")) + 8;
        var store = new ShardedRevocationStore(shards, capacity);
        var entries = Enumerable.Range(0, 25).Select(i => Entry($"jti-{i:D5}")).ToList();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => store.UpdateAsync(l => l.Add(entries), CancellationToken.None));

        Assert.Contains("the revocation list is full: 5 new entries", e.Message, StringComparison.Ordinal);
        Assert.Contains("requestsProxy.revoked.shards", e.Message, StringComparison.Ordinal);
        Assert.Equal(20, shards.Sum(s => s.Document.Count));
    }

    [Fact]
    public async Task Update_Prune_DropsExpiredEntriesInEveryShardAndWritesOnlyChangedOnes()
    {
        var shards = Shards(3);
        var store = new ShardedRevocationStore(shards, DocumentLimits.ConfigMapBytes);
        await store.UpdateAsync(l => l.Add([.. Enumerable.Range(0, 30).Select(i => new RevocationEntry($"jti-{i}", i % 2 == 0 ? 100 : 5_000_000_000, "job"))]), CancellationToken.None);
        var writes = shards.Select(s => s.Writes).ToList();

        var removed = 0;
        var snapshot = await store.UpdateAsync(l =>
        {
            var pruned = l.Prune(DateTimeOffset.FromUnixTimeSeconds(1_000), TimeSpan.Zero, out var n);
            removed += n;
            return pruned;
        }, CancellationToken.None);

        Assert.Equal(15, removed);
        Assert.Equal(15, snapshot.Document.Count);
        Assert.All(snapshot.Document.Entries, e => Assert.Equal(5_000_000_000, e.Exp));
        await store.UpdateAsync(l => l.Prune(DateTimeOffset.FromUnixTimeSeconds(1_000), TimeSpan.Zero, out _), CancellationToken.None);
        Assert.Equal(writes.Select(w => w + 1), shards.Select(s => s.Writes));
    }

    [Fact]
    public async Task Update_EntryAlreadyInAShard_UpdatedInPlaceNotDuplicated()
    {
        var shards = Shards(4);
        var store = new ShardedRevocationStore(shards, DocumentLimits.ConfigMapBytes);
        // As an old single-ConfigMap list: every entry in shard 0, whatever its home.
        await shards[0].UpdateAsync(l => l.Add([new RevocationEntry("old", 100, "job")]), CancellationToken.None);

        var snapshot = await store.UpdateAsync(l => l.Add([new RevocationEntry("old", 200, "job")]), CancellationToken.None);

        Assert.Equal(200, Assert.Single(snapshot.Document.Entries).Exp);
        Assert.Equal("old", Assert.Single(shards[0].Document.Entries).Jti);
    }

    /// <summary>The stated capacity: 100 000 live revocations with 52-character job names fit in the chart's 16 shards.</summary>
    [Fact]
    public async Task Update_HundredThousandEntriesOfLongestNames_FitInSixteenShards()
    {
        var shards = Shards(16);
        var store = new ShardedRevocationStore(shards, DocumentLimits.ConfigMapBytes);
        var sub = new string('j', 52);
        var entries = Enumerable.Range(0, 100_000).Select(i => new RevocationEntry(Jti(i), 1_900_000_000 + i, sub)).ToList();

        var snapshot = await store.UpdateAsync(l => l.Add(entries), CancellationToken.None);

        Assert.Equal(100_000, snapshot.Document.Count);
        Assert.All(shards, s => Assert.InRange(s.Document.Serialize().LongLength, 1, DocumentLimits.ConfigMapBytes));
        Assert.True(snapshot.SizeBytes < store.CapacityBytes * 0.8, $"{snapshot.SizeBytes} bytes of {store.CapacityBytes}");
    }

    private static InMemoryRevocationStore[] Shards(int count) => [.. Enumerable.Range(0, count).Select(_ => new InMemoryRevocationStore())];

    private static RevocationEntry Entry(string jti) => new(jti, 1_900_000_000, "job-1");

    /// <summary>A jti as the issuer makes them: 16 random bytes, base64url (22 characters).</summary>
    private static string Jti(int i)
    {
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes, i);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), (long)i * 7919);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
