using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Tests.Revocation;

public sealed class RevocationListTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static RevocationList Parse(string json)
    {
        Assert.True(RevocationList.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var list, out var error), error);
        return list;
    }

    [Fact]
    public void TryParse_BothEntryForms_AreRead()
    {
        var list = Parse("""["a", {"jti":"b","exp":1767225600,"sub":"job-42"}, {"jti":"c","exp":1767225600.2}, {"jti":"d","extra":true}]""");

        Assert.Equal(4, list.Count);
        Assert.True(list.Contains("a"));
        Assert.True(list.Contains("b".AsSpan()));
        Assert.False(list.Contains("job-42"));
        Assert.Equal(new RevocationEntry("b", 1767225600, "job-42"), list.Entries[1]);
        Assert.Equal(1767225601, list.Entries[2].Exp);
    }

    [Fact]
    public void TryParse_InitialEmptyArray_IsEmpty() => Assert.Equal(0, Parse("[]").Count);

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("[1]")]
    [InlineData("[\"\"]")]
    [InlineData("[{\"exp\":1}]")]
    [InlineData("[{\"jti\":1}]")]
    [InlineData("[{\"jti\":\"a\",\"exp\":\"soon\"}]")]
    [InlineData("[\"a\",]")]
    [InlineData("[\"a\"")]
    [InlineData("[null]")]
    public void TryParse_Corrupt_IsRefusedWithReason(string json)
    {
        Assert.False(RevocationList.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var list, out var error));
        Assert.Same(RevocationList.Empty, list);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Serialize_RoundTrips()
    {
        var list = new RevocationList([new("a"), new("b", 10, "job"), new("c", 11)]);
        var again = Parse(System.Text.Encoding.UTF8.GetString(list.Serialize()));
        Assert.Equal(list.Entries, again.Entries);
    }

    [Fact]
    public void Add_DuplicateJti_KeepsOneEntryWithLaterExp()
    {
        var list = new RevocationList([new("a", 10, "job")]).Add([new("a", 20), new("b", 5)]);
        Assert.Equal([new RevocationEntry("a", 20, "job"), new RevocationEntry("b", 5)], list.Entries);
    }

    [Fact]
    public void Prune_DropsOnlyEntriesPastExpPlusLeeway()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1000);
        var list = new RevocationList([new("old", 969), new("edge", 970), new("young", 971), new("bare")]);

        var pruned = list.Prune(now, TimeSpan.FromSeconds(30), out var removed);

        Assert.Equal(2, removed);
        Assert.Equal(["young", "bare"], pruned.Entries.Select(e => e.Jti));
    }

    [Fact]
    public void RevocationFile_ConcurrentUpdates_LoseNothing()
    {
        var path = _temp.Combine("revoked.json");
        Parallel.For(0, 40, i => RevocationFile.Update(path, l => l.Add([new RevocationEntry($"j{i}", 100 + i)])));

        var list = RevocationFile.Read(path);
        Assert.Equal(40, list.Count);
        Assert.Empty(Directory.GetFiles(_temp.Path, "*.tmp"));
    }

    [Fact]
    public void RevocationFile_Corrupt_IsAnErrorNamingTheFile()
    {
        var path = _temp.Combine("revoked.json");
        File.WriteAllText(path, "[oops");
        var e = Assert.Throws<InvalidDataException>(() => RevocationFile.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RevocationSource_CorruptUpdate_KeepsLastGoodList()
    {
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]" });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();
        Assert.True(source.Current.Contains("a"));

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\", {" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains("a"));
        Assert.Equal(1, source.ReloadFailureCount);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, source.ReloadFailureCount);

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\", \"b\"]" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains("b"));
        Assert.Null(source.LastFailure);
    }

    [Fact]
    public void RevocationSource_MissingAtStart_IsTheEmptyListAndReady()
    {
        var dir = _temp.Combine("revoked");
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();

        Assert.True(source.IsReady);
        Assert.Equal(0, source.Current.Count);
        Assert.Equal(0, source.ReloadFailureCount);

        _ = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains("a"));
    }

    [Fact]
    public void RevocationSource_NeverAFile_StaysReadyAndQuietPollAfterPoll()
    {
        var dir = _temp.Combine("revoked");
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        var failures = new List<string>();
        source.ReloadFailed += failures.Add;
        source.Start();

        // The poll that used to log an Error and count a failure on a healthy setup: 10 s, then a few more.
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.True(source.IsReady);
        Assert.Equal(0, source.ReloadFailureCount);
        Assert.Empty(failures);
        Assert.Null(source.LastFailure);
        Assert.Equal(1, source.ReloadCount);
    }

    [Fact]
    public void RevocationSource_CorruptAtStart_NotReady()
    {
        var dir = _temp.Combine("revoked");
        _ = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[garbage" });
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        source.Start();

        Assert.False(source.IsReady);
        Assert.Equal(1, source.ReloadFailureCount);
    }

    [Fact]
    public void RevocationSource_FileVanishes_KeepsLastGoodListAndCountsOnce()
    {
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]" });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();

        File.Delete(Path.Combine(volume.Path, "revoked.json"));
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(source.IsReady);
        Assert.True(source.Current.Contains("a"));
        Assert.Equal(1, source.ReloadFailureCount);
        Assert.Contains("keeping the last good list", source.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public void Serialize_IsCompactOneLine()
    {
        var list = new RevocationList([new RevocationEntry("a", 1, "job-1"), new RevocationEntry("b")]);

        var text = System.Text.Encoding.UTF8.GetString(list.Serialize());

        Assert.Equal("[{\"jti\":\"a\",\"exp\":1,\"sub\":\"job-1\"},\"b\"]\n", text);
        Assert.Equal(text.Length - 3 + 1, list.Entries.Sum(RevocationList.SerializedLength));
    }

    [Fact]
    public void RevocationSource_Shards_AreReadAsOneListInAProjectedVolume()
    {
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string>
        {
            ["revoked.json"] = "[\"a\"]",
            ["revoked-1.json"] = "[{\"jti\":\"b\",\"exp\":5}]",
            ["revoked-2.json"] = "[\"c\"]",
            ["revoked-x.json"] = "[\"not-a-shard\"]",
        });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();

        Assert.Equal(3, source.Current.Count);
        Assert.True(source.Current.Contains("a") && source.Current.Contains("b") && source.Current.Contains("c"));
        Assert.False(source.Current.Contains("not-a-shard"));

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[\"b\"]", ["revoked-2.json"] = "[\"c\",\"d\"]" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains("d"));
        Assert.Equal(2, source.ReloadCount);
    }

    [Fact]
    public void RevocationSource_OnlyShardsNoSingleFile_AreReadAndReady()
    {
        var dir = _temp.Combine("revoked");
        _ = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked-3.json"] = "[\"z\"]" });
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        source.Start();

        Assert.True(source.IsReady);
        Assert.True(source.Current.Contains("z"));
    }

    [Fact]
    public void RevocationSource_CorruptShard_KeepsItsLastGoodEntriesWhileTheOthersUpdate()
    {
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[\"b\"]" });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();

        // Entries never move between shards (ShardedRevocationStore), so a healthy shard's new revocation bites at once.
        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\",\"new\"]", ["revoked-1.json"] = "[\"b\"," });
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(source.Current.Contains("b"));
        Assert.True(source.Current.Contains("new"));
        Assert.Equal(1, source.ReloadFailureCount);
        Assert.Contains("revoked-1.json", source.LastFailure, StringComparison.Ordinal);

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\",\"new\"]", ["revoked-1.json"] = "[\"b\",\"c\"]" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains("c"));
        Assert.Null(source.LastFailure);
    }

    [Fact]
    public void RevocationSource_RequiredShardsMissingAtStart_NotReadyUntilEachWasRead()
    {
        // The chart's optional volume before the jobs-manager created shard 2: an empty list there would accept its revoked tokens.
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[\"b\"]" });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time, requiredShards: 3);
        var waiting = new List<string>();
        source.Waiting += waiting.Add;
        source.Start();
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(source.IsReady);
        Assert.Equal(0, source.Current.Count);
        Assert.Equal(0, source.ReloadFailureCount);
        Assert.Contains("revoked-2.json", source.LastFailure, StringComparison.Ordinal);
        Assert.Equal([Path.Combine(dir, "revoked-2.json")], waiting);

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[\"b\"]", ["revoked-2.json"] = "[\"c\"]" });
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(source.IsReady);
        Assert.Equal(3, source.Current.Count);
        Assert.Null(source.LastFailure);
        Assert.Equal("", waiting[^1]);
    }

    [Fact]
    public void RevocationSource_RequiredEmptyFolder_NotReadyAndQuiet()
    {
        var dir = _temp.Combine("revoked");
        Directory.CreateDirectory(dir);
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time, requiredShards: 1);
        var waiting = new List<string>();
        source.Waiting += waiting.Add;
        source.Start();
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.False(source.IsReady);
        Assert.Equal(0, source.ReloadFailureCount);
        Assert.Single(waiting);
        Assert.Contains("waiting for", source.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public void RevocationSource_RequiredShardVanishesAfterLoad_KeepsItsEntriesAndCountsIt()
    {
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[\"b\"]" });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time, requiredShards: 2);
        source.Start();
        Assert.True(source.IsReady);

        // Its ConfigMap deleted: the kubelet empties that part of the optional volume.
        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\",\"z\"]" });
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(source.IsReady);
        Assert.True(source.Current.Contains("b"));
        Assert.True(source.Current.Contains("z"));
        Assert.Equal(1, source.MissingFileCount);
        Assert.Equal(1, source.ReloadFailureCount);
        Assert.Contains("revoked-1.json' does not exist", source.LastFailure, StringComparison.Ordinal);

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\",\"z\"]", ["revoked-1.json"] = "[]" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, source.MissingFileCount);
        Assert.False(source.Current.Contains("b"));
        Assert.Null(source.LastFailure);
    }

    [Fact]
    public void RevocationSource_RequiredCorruptAtStart_NotReadyNamingTheFile()
    {
        var dir = _temp.Combine("revoked");
        _ = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[oops" });
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), new FakeTimeProvider(), requiredShards: 2);
        source.Start();

        Assert.False(source.IsReady);
        Assert.Contains("revoked-1.json' is invalid", source.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public void RevocationSource_ShardVanishes_KeepsLastGoodListAndCountsOnce()
    {
        var dir = _temp.Combine("revoked");
        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]", ["revoked-1.json"] = "[\"b\"]" });
        var time = new FakeTimeProvider();
        using var source = new RevocationSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();

        volume.Write(new Dictionary<string, string> { ["revoked.json"] = "[\"a\"]" });
        time.Advance(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(source.Current.Contains("b"));
        Assert.Equal(1, source.ReloadFailureCount);
        Assert.Contains("revoked-1.json' does not exist", source.LastFailure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("revoked-0.json", 0)]
    [InlineData("revoked-15.json", 15)]
    [InlineData("revoked-.json", -1)]
    [InlineData("revoked-1a.json", -1)]
    [InlineData("revoked.json", -1)]
    [InlineData(".revoked-1.json.tmp", -1)]
    public void ShardNumber_OnlyRevokedDashDigits(string name, int expected) => Assert.Equal(expected, RevocationSource.ShardNumber(name));
}
