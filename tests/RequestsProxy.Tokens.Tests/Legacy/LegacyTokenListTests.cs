using System.Text;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Tokens.Tests.Legacy;

public sealed class LegacyTokenListTests : IDisposable
{
    // SHA-256("abc"), unpadded base64url.
    private const string AbcDigest = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static LegacyTokenList Parse(string json)
    {
        Assert.True(LegacyTokenList.TryParse(Encoding.UTF8.GetBytes(json), out var list, out var error), error);
        return list;
    }

    private static string Digest(char c) => new(c, LegacyTokenDigest.Length);

    [Fact]
    public void Compute_KnownToken_IsUnpaddedBase64UrlSha256()
    {
        Assert.Equal(AbcDigest, LegacyTokenDigest.Compute("abc"));
        Assert.True(LegacyTokenDigest.IsValid(AbcDigest));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\t")]
    [InlineData("é")]
    public void Compute_NeverALegacyToken_IsNull(string token) => Assert.Null(LegacyTokenDigest.Compute(token.AsSpan()));

    [Fact]
    public void Compute_LongerThanTheLimit_IsNull() =>
        Assert.Null(LegacyTokenDigest.Compute(new string('a', LegacyTokenDigest.MaxTokenLength + 1).AsSpan()));

    [Fact]
    public void TryParse_Entries_AreReadAndFoundByDigest()
    {
        var list = Parse($$"""[{"digest":"{{AbcDigest}}","sub":"job-1","scope":"results:write"},{"digest":"{{Digest('b')}}","sub":"job-2","scope":"","until":100.9,"extra":1}]""");

        Assert.Equal(2, list.Count);
        Assert.Equal(new LegacyTokenEntry(AbcDigest, "job-1", "results:write"), list.Find(AbcDigest, 0));
        Assert.Equal(100, list.Entries[1].Until);
        Assert.NotNull(list.Find(Digest('b'), 99));
        Assert.Null(list.Find(Digest('b'), 100));
        Assert.Null(list.Find(Digest('c'), 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("[\"a\"]")]
    [InlineData("[{\"sub\":\"j\",\"scope\":\"\"}]")]
    [InlineData("[{\"digest\":\"short\",\"sub\":\"j\"}]")]
    [InlineData("[{\"digest\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\",\"sub\":\"j\"}]")]
    [InlineData("[{\"digest\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]")]
    [InlineData("[{\"digest\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"sub\":1}]")]
    [InlineData("[{\"digest\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"sub\":\"j\",\"until\":\"soon\"}]")]
    [InlineData("[{\"digest\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"sub\":\"j\"},]")]
    [InlineData("[null]")]
    public void TryParse_Corrupt_IsRefusedWithReason(string json)
    {
        Assert.False(LegacyTokenList.TryParse(Encoding.UTF8.GetBytes(json), out var list, out var error));
        Assert.Same(LegacyTokenList.Empty, list);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void Serialize_RoundTrips()
    {
        var list = new LegacyTokenList([new(Digest('a'), "job-1", "results:write flops:write"), new(Digest('b'), "job-2", "", 1767225600)]);

        var again = Parse(Encoding.UTF8.GetString(list.Serialize()));

        Assert.Equal(list.Entries, again.Entries);
    }

    [Fact]
    public void AddRemoveEnd_ChangeOnlyTheirSubject()
    {
        var list = LegacyTokenList.Empty
            .Add(new(Digest('a'), "job-1", "s"))
            .Add(new(Digest('b'), "job-2", "s"))
            .Add(new(Digest('a'), "job-1", "s2"));

        var ended = list.EndSubject("job-1", 50, out var changed);
        var endedLater = ended.EndSubject("job-1", 80, out var unchanged);
        var removed = ended.RemoveSubject("job-2", out var count);

        Assert.Equal(2, list.Count);
        Assert.Equal("s2", list.Find(Digest('a'), 0)!.Scope);
        Assert.Equal(1, changed);
        Assert.Equal(50, ended.Find(Digest('a'), 0)!.Until);
        Assert.Null(ended.Find(Digest('b'), 0)!.Until);
        Assert.Equal(0, unchanged);
        Assert.Same(ended, endedLater);
        Assert.Equal(1, count);
        Assert.False(removed.Contains(Digest('b')));
        Assert.Same(removed, removed.RemoveSubject("job-2", out _));
    }

    [Fact]
    public void Prune_DropsOnlyEndedEntries()
    {
        var list = new LegacyTokenList([new(Digest('a'), "job-1", "s", 100), new(Digest('b'), "job-2", "s")]);

        var early = list.Prune(99, out var none);
        var pruned = list.Prune(100, out var removed);

        Assert.Same(list, early);
        Assert.Equal(0, none);
        Assert.Equal(1, removed);
        Assert.False(pruned.Contains(Digest('a')));
        Assert.True(pruned.Contains(Digest('b')));
    }

    [Fact]
    public void File_Update_WritesAtomicallyAndReadsBack()
    {
        var path = _temp.Combine("legacy", LegacyTokenList.FileName);

        LegacyTokenFile.Update(path, l => l.Add(new(AbcDigest, "job-1", "s")));
        LegacyTokenFile.Update(path, l => l.Add(new(Digest('b'), "job-2", "s")));

        Assert.Equal(2, LegacyTokenFile.Read(path).Count);
        File.WriteAllText(path, "[oops");
        var e = Assert.Throws<InvalidDataException>(() => LegacyTokenFile.Read(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Source_MissingAtStart_IsEmptyAndReady_ThenFollowsTheVolume()
    {
        var dir = _temp.Combine("legacy");
        var time = new FakeTimeProvider();
        using var source = new LegacyTokenSource(dir, TimeSpan.FromSeconds(10), time);
        source.Start();

        Assert.True(source.IsReady);
        Assert.Equal(0, source.Current.Count);

        var volume = new ProjectedVolume(dir, new Dictionary<string, string> { [LegacyTokenList.FileName] = $$"""[{"digest":"{{AbcDigest}}","sub":"j","scope":""}]""" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains(AbcDigest));

        volume.Write(new Dictionary<string, string> { [LegacyTokenList.FileName] = "[{" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.Current.Contains(AbcDigest));
        Assert.Equal(1, source.ReloadFailureCount);
        Assert.Contains("legacy token list", source.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public void Source_CorruptAtStart_NotReady()
    {
        var dir = _temp.Combine("legacy");
        _ = new ProjectedVolume(dir, new Dictionary<string, string> { [LegacyTokenList.FileName] = "[garbage" });
        using var source = new LegacyTokenSource(dir, TimeSpan.FromSeconds(10), new FakeTimeProvider());
        source.Start();

        Assert.False(source.IsReady);
        Assert.Equal(1, source.ReloadFailureCount);
    }

    [Fact]
    public void Source_RequiredMissingAtStart_NotReadyUntilTheFileAppears()
    {
        var dir = _temp.Combine("legacy");
        Directory.CreateDirectory(dir);
        var time = new FakeTimeProvider();
        using var source = new LegacyTokenSource(dir, TimeSpan.FromSeconds(10), time, required: true);
        source.Start();
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(source.IsReady);
        Assert.Equal(0, source.ReloadFailureCount);
        Assert.Contains(LegacyTokenList.FileName, source.LastFailure, StringComparison.Ordinal);

        _ = new ProjectedVolume(dir, new Dictionary<string, string> { [LegacyTokenList.FileName] = "[]" });
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.IsReady);
        Assert.Null(source.LastFailure);
    }
}
