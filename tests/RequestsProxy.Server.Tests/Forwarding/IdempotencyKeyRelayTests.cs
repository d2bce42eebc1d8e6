using System.Net;

namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>DESIGN §14: the proxy relays Idempotency-Key untouched; de-duplication is the upstream's (by subject + key).</summary>
public sealed class IdempotencyKeyRelayTests
{
    [Theory]
    [InlineData("3f2a9c0e8b1d4e6fa7c5b2d1e0f9a8b7")]
    [InlineData("Epoch-7/Step 9;a=b,c \"quoted\"")]
    [InlineData("  padded  ")]
    public async Task Forward_IdempotencyKey_RelayedByteForByte(string key)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // HTTP trims a field value's surrounding whitespace on the wire; nothing else changes.
        Assert.Equal(key.Trim(), proxy.Upstream.Last!.Header("Idempotency-Key"));
    }

    [Fact]
    public async Task Forward_SameKeyTwice_BothRelayedTheProxyKeepsNoKeys()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Mint("job-1");
        for (var i = 0; i < 2; i++)
        {
            using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", token, "{}");
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "same");
            using var response = await proxy.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(["same", "same"], proxy.Upstream.Requests.Select(r => r.Header("Idempotency-Key")));
        Assert.All(proxy.Upstream.Requests, r => Assert.Equal("job-1", r.Header("X-Requests-Proxy-Subject")));
    }
}
