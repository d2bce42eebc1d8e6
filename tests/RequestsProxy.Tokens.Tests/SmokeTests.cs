namespace RequestsProxy.Tokens.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Build_Works_True() => Assert.True(true);
}
