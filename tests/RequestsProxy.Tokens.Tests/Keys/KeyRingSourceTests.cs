using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Testing.Files;
using RequestsProxy.Tokens.Jwt;
using RequestsProxy.Tokens.Keys;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Tokens.Tests.Keys;

public sealed class KeyRingSourceTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));

    public void Dispose() => _temp.Dispose();

    private KeyRingSource Source(string path)
    {
        var source = new KeyRingSource(path, TimeSpan.FromSeconds(10), _time);
        source.Start();
        return source;
    }

    [Fact]
    public void Poll_KubeletSwapOfDataSymlink_IsPickedUp()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        using var source = Source(volume.Path);
        var changes = 0;
        source.Changed += _ => changes++;
        var v2 = volume.AddKey();

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(source.Current!.TryGetKey(v2, out _));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(source.Current!.TryGetKey(v2, out _));
        Assert.Equal(1, changes);
        Assert.Equal(2, source.ReloadCount);
    }

    [Fact]
    public void Poll_UnchangedFolder_KeepsTheSameSnapshot()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        using var source = Source(volume.Path);
        var before = source.Current;
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Same(before, source.Current);
    }

    [Fact]
    public void Poll_InvalidUpdate_KeepsLastGoodRingAndCountsTheFailure()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        using var source = Source(volume.Path);
        var good = source.Current;
        string? reported = null;
        source.ReloadFailed += e => reported = e;

        volume.WriteRaw(new Dictionary<string, string> { ["active"] = "v7", ["v1"] = volume.Files["v1"] });
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Same(good, source.Current);
        Assert.Equal(1, source.ReloadFailureCount);
        Assert.Contains("v7", reported, StringComparison.Ordinal);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, source.ReloadFailureCount);

        volume.WriteRaw(new Dictionary<string, string> { ["active"] = "v1", ["v1"] = "short" });
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Same(good, source.Current);
        Assert.Equal(2, source.ReloadFailureCount);

        // Another bad update failing for the very same reason is another refusal.
        volume.WriteRaw(new Dictionary<string, string> { ["active"] = "v1", ["v1"] = "short", ["v2"] = new string('k', 64) });
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(3, source.ReloadFailureCount);
    }

    [Fact]
    public void Start_NoValidRing_IsNotReadyAndRecoversOnPoll()
    {
        var path = _temp.Combine("keys");
        using var source = Source(path);
        Assert.False(source.IsReady);
        Assert.Contains("does not exist", source.LastFailure, StringComparison.Ordinal);

        _ = new KeyRingVolume(path);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(source.IsReady);
        Assert.Null(source.LastFailure);
    }

    [Fact]
    public void UnknownKid_NewKeyFile_VerifiesAtOnceWithoutWaitingForThePoll()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        using var source = Source(volume.Path);
        var validator = new TokenValidator(source, StaticRevocationSource.None, new TokenValidationOptions(), _time);
        var v2 = volume.AddKey();
        volume.Promote(v2);
        var fresh = KeyRingLoader.Load(volume.Path).Ring!;
        var token = new TokenIssuer(new StaticKeyRingSource(fresh), _time).Mint(new TokenRequest("job-1")).Token;

        var result = validator.Validate(token);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(v2, result.Claims!.Kid);
    }

    [Fact]
    public void UnknownKid_RereadsAtMostOncePerSecond()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        using var source = Source(volume.Path);
        Assert.Equal(1, source.ReloadCount);

        source.RefreshForUnknownKid();
        var v2 = volume.AddKey();
        source.RefreshForUnknownKid();
        Assert.False(source.Current!.TryGetKey(v2, out _));

        _time.Advance(TimeSpan.FromMilliseconds(999));
        source.RefreshForUnknownKid();
        Assert.False(source.Current!.TryGetKey(v2, out _));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        source.RefreshForUnknownKid();
        Assert.True(source.Current!.TryGetKey(v2, out _));
    }

    [Fact]
    public void RingChange_EmptiesTheVerifiedTokenCache_RetiredKeyStopsVerifying()
    {
        var volume = new KeyRingVolume(_temp.Combine("keys"));
        using var source = Source(volume.Path);
        var validator = new TokenValidator(source, StaticRevocationSource.None, new TokenValidationOptions(), _time);
        var token = new TokenIssuer(source, _time).Mint(new TokenRequest("job-1")).Token;
        Assert.True(validator.Validate(token).IsValid);
        Assert.True(validator.Validate(token).IsValid);
        Assert.Equal(1, validator.CacheHits);

        var v2 = volume.AddKey();
        volume.Promote(v2);
        volume.Retire("v1");
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(TokenFailure.UnknownKid, validator.Validate(token).Failure);
    }
}
