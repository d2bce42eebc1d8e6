using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Tokens.Tests.Keys;

public sealed class KeyRingLoaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Plain(Dictionary<string, string> files)
    {
        var dir = _temp.Combine("plain");
        Directory.CreateDirectory(dir);
        foreach (var (name, content) in files)
        {
            File.WriteAllText(Path.Combine(dir, name), content);
        }

        return dir;
    }

    private static readonly string Key = new('k', 32);

    [Fact]
    public void Load_KubeletLayout_ReadsActiveAndKeysThroughSymlinks()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        volume.AddKey();

        var result = KeyRingLoader.Load(volume.Path);

        Assert.True(result.Success, result.Error);
        Assert.Equal("v1", result.Ring!.ActiveKid);
        Assert.Equal(["v1", "v2"], result.Ring.Kids);
        Assert.Equal(64, result.Ring.Keys["v2"].Length);
    }

    [Fact]
    public void Load_TrailingWhitespace_IsTrimmed()
    {
        var a = KeyRingLoader.Load(Plain(new() { ["active"] = "v1\n", ["v1"] = Key + " \r\n\t\n" }));
        Assert.True(a.Success, a.Error);
        Assert.Equal(32, a.Ring!.Keys["v1"].Length);
    }

    [Fact]
    public void Load_KeyShorterThan32Bytes_IsRefused()
    {
        var result = KeyRingLoader.Load(Plain(new() { ["active"] = "v1", ["v1"] = new string('k', 31) + "\n\n" }));
        Assert.False(result.Success);
        Assert.Contains("'v1' is 31 bytes", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ActiveNamesMissingKid_IsRefused()
    {
        var result = KeyRingLoader.Load(Plain(new() { ["active"] = "v2", ["v1"] = Key }));
        Assert.False(result.Success);
        Assert.Contains("no key file 'v2'", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../v1")]
    [InlineData("..data/v1")]
    [InlineData("")]
    [InlineData("key1")]
    public void Load_ActiveNotAKid_IsRefused(string active)
    {
        var result = KeyRingLoader.Load(Plain(new() { ["active"] = active, ["v1"] = Key }));
        Assert.False(result.Success);
    }

    [Fact]
    public void Load_NoActiveFile_IsRefused() =>
        Assert.Contains("no 'active' file", KeyRingLoader.Load(Plain(new() { ["v1"] = Key })).Error, StringComparison.Ordinal);

    [Fact]
    public void Load_MissingFolder_IsAClearError() =>
        Assert.Contains("does not exist", KeyRingLoader.Load(_temp.Combine("nope")).Error, StringComparison.Ordinal);

    [Fact]
    public void Load_DotNamesAndOtherNames_AreIgnored()
    {
        var dir = Plain(new() { ["active"] = "v1", ["v1"] = Key, [".v2"] = "short", ["README"] = "x", ["v1.bak"] = "short", ["..2026_01_01"] = "x" });
        var result = KeyRingLoader.Load(dir);
        Assert.True(result.Success, result.Error);
        Assert.Equal(["v1"], result.Ring!.Kids);
    }

    [Fact]
    public void Load_UnreadableKeyFile_IsRefused()
    {
        var dir = Plain(new() { ["active"] = "v1" });
        Directory.CreateDirectory(Path.Combine(dir, "v1"));
        var result = KeyRingLoader.Load(dir);
        Assert.False(result.Success);
        Assert.Contains("'v1'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_KidsSortNumerically()
    {
        var result = KeyRingLoader.Load(Plain(new() { ["active"] = "v10", ["v9"] = Key, ["v10"] = Key, ["v2"] = Key }));
        Assert.Equal(["v2", "v9", "v10"], result.Ring!.Kids);
        Assert.Equal("v11", KeyRingRules.NextKid(result.Ring.Kids));
    }

    [Fact]
    public void Fingerprint_SameContent_IsEqual_ChangedContent_Differs()
    {
        var a = KeyRingLoader.Load(Plain(new() { ["active"] = "v1", ["v1"] = Key })).Ring!;
        var b = KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = System.Text.Encoding.UTF8.GetBytes(Key) });
        var c = KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = System.Text.Encoding.UTF8.GetBytes(new string('q', 32)) });
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.NotEqual(a.Fingerprint, c.Fingerprint);
    }

    [Fact]
    public void Build_InvalidRing_Throws()
    {
        var key = new byte[32];
        Assert.Throws<ArgumentException>(() => KeyRingLoader.Build("v2", new Dictionary<string, byte[]> { ["v1"] = key }));
        Assert.Throws<ArgumentException>(() => KeyRingLoader.Build("v1", new Dictionary<string, byte[]> { ["v1"] = new byte[31] }));
        Assert.Throws<ArgumentException>(() => KeyRingLoader.Build("x", new Dictionary<string, byte[]> { ["x"] = key }));
    }

    [Fact]
    public void GenerateKey_Is64Alphanumerics()
    {
        var key = KeyRingRules.GenerateKey();
        Assert.Equal(64, key.Length);
        Assert.All(key, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
        Assert.NotEqual(key, KeyRingRules.GenerateKey());
    }
}
