using System.Security.Cryptography;
using CsCheck;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Tokens.Tests.Keys;

public sealed class SigningKeyTests
{
    [Fact]
    public void Sign_OnLinux_UsesTheAbsorbedPadPath() =>
        Assert.Equal(OperatingSystem.IsLinux(), new SigningKey("v1", new byte[32]).UsesMidstate);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sign_AnyKeyAndData_EqualsHmacSha256(bool allowMidstate)
    {
        Gen.Select(Gen.Byte.Array[32, 200], Gen.Byte.Array[0, 3000]).Sample((key, data) =>
        {
            var ours = new byte[32];
            new SigningKey("v1", key, allowMidstate).Sign(data, ours);
            return ours.AsSpan().SequenceEqual(HMACSHA256.HashData(key, data));
        }, iter: 2_000);
    }

    [Fact]
    public void Sign_Rfc4231TestCase6LongerThanBlockKey_MatchesTheRfc()
    {
        var key = new byte[131];
        Array.Fill(key, (byte)0xaa);
        var data = "Test Using Larger Than Block-Size Key - Hash Key First"u8.ToArray();
        var ours = new byte[32];
        new SigningKey("v1", key).Sign(data, ours);
        Assert.Equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", Convert.ToHexStringLower(ours));
    }

    [Fact]
    public void Sign_ConcurrentThreads_AgreeWithPlatform()
    {
        var key = RandomNumberGenerator.GetBytes(64);
        var signingKey = new SigningKey("v1", key);
        Parallel.For(0, 2_000, i =>
        {
            var data = RandomNumberGenerator.GetBytes(i % 700);
            var ours = new byte[32];
            signingKey.Sign(data, ours);
            Assert.Equal(HMACSHA256.HashData(key, data), ours);
        });
    }
}
