using System.Text;

namespace RequestsProxy.Server.Tests.Forwarding;

/// <summary>Finding 4 of issue 10: the body limit counts payload bytes, however the body is framed.</summary>
public sealed class BodyLimitTests
{
    private static Task<ProxyHarness> StartAsync() => ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_MAX_BODY_BYTES"] = "1000");

    [Theory]
    // As found: refused with 413 although the payload was under the 1 000-byte limit.
    [InlineData(new[] { 989 })]
    [InlineData(new[] { 95, 95, 95, 95, 95, 95, 95, 95, 95, 95 })]
    // More framings of a payload at or under the limit.
    [InlineData(new[] { 1000 })]
    [InlineData(new[] { 500, 500 })]
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    public async Task Chunked_PayloadAtOrUnderTheLimit_IsRelayedWhole(int[] chunks)
    {
        await using var proxy = await StartAsync();

        var response = await RawHttp.PostChunkedAsync(proxy.Address, "/v1/results", proxy.Mint("job-1"), chunks);

        Assert.Equal(200, response.Status);
        Assert.Equal(chunks.Sum(), proxy.Upstream.Last!.Body.Length);
    }

    [Theory]
    [InlineData(new[] { 1001 })]
    [InlineData(new[] { 500, 501 })]
    [InlineData(new[] { 1000, 1 })]
    public async Task Chunked_PayloadOverTheLimit_IsACounted413(int[] chunks)
    {
        await using var proxy = await StartAsync();

        var response = await RawHttp.PostChunkedAsync(proxy.Address, "/v1/results", proxy.Mint("job-1"), chunks);

        Assert.Equal(413, response.Status);
        Assert.Contains("body_too_large", response.Text, StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Theory]
    [InlineData(1000, 200)]
    [InlineData(1001, 413)]
    public async Task ContentLength_AtAndOverTheLimit_BehavesLikeChunked(int length, int status)
    {
        await using var proxy = await StartAsync();

        var response = await RawHttp.SendAsync(proxy.Address,
            $"POST /v1/results HTTP/1.1\r\nAuthorization: Bearer {proxy.Mint("job-1")}\r\nContent-Length: {length}", Encoding.ASCII.GetBytes(new string('a', length)));

        Assert.Equal(status, response.Status);
        Assert.Equal(status == 200 ? 1 : 0, proxy.Upstream.Count);
    }
}
