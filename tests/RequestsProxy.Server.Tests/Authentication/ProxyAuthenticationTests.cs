using System.Net;
using System.Text;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.Server.Tests.Authentication;

public sealed class ProxyAuthenticationTests
{
    [Fact]
    public async Task Request_ValidToken_IsForwarded()
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.PostAsync("/v1/results?x=1", proxy.Mint("job-1"), "{\"epoch\":3}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        var seen = Assert.Single(proxy.Upstream.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/v1/results", seen.Path);
        Assert.Equal("?x=1", seen.QueryString);
        Assert.Equal("{\"epoch\":3}", seen.BodyText);
    }

    [Fact]
    public async Task Request_WithoutAuthorization_Is401WithBareBearerChallenge()
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await proxy.PostAsync("/v1/results", token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("missing_token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Request_WithOtherScheme_Is401WithBareBearerChallenge()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", token: null, "{}");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("a:b")));

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Theory]
    [InlineData("malformed")]
    [InlineData("empty")]
    [InlineData("unsupported_alg")]
    [InlineData("unknown_kid")]
    [InlineData("bad_signature")]
    [InlineData("expired")]
    [InlineData("not_yet_valid")]
    [InlineData("wrong_audience")]
    [InlineData("wrong_issuer")]
    [InlineData("revoked")]
    public async Task Request_InvalidToken_Is401WithReason(string reason)
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new { alg = "HS256", typ = "JWT", kid = "v1" };
        var token = reason switch
        {
            "malformed" => "not.a-token",
            "empty" => "",
            "unsupported_alg" => proxy.Forge(new { alg = "HS512", typ = "JWT", kid = "v1" }, ProxyHarness.Claims()),
            "unknown_kid" => proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v9" }, ProxyHarness.Claims(), kid: "v1"),
            "bad_signature" => proxy.Forge(header, ProxyHarness.Claims(), key: new byte[32]),
            "expired" => proxy.Forge(header, ProxyHarness.Claims(exp: now - 120, nbf: now - 3600)),
            "not_yet_valid" => proxy.Forge(header, ProxyHarness.Claims(nbf: now + 600)),
            "wrong_audience" => proxy.Forge(header, ProxyHarness.Claims(aud: "someone-else")),
            "wrong_issuer" => proxy.Forge(header, ProxyHarness.Claims(iss: "mallory")),
            "revoked" => proxy.Forge(header, ProxyHarness.Claims(jti: "revoked-jti")),
            _ => throw new ArgumentOutOfRangeException(nameof(reason)),
        };
        if (reason == "revoked")
        {
            await RevokeAsync(proxy, "revoked-jti");
        }

        using var response = await proxy.PostAsync("/v1/results", token);

        var expected = reason == "empty" ? "malformed" : reason;
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($"Bearer error=\"invalid_token\", error_description=\"{expected}\"",
            Assert.Single(response.Headers.GetValues("WWW-Authenticate")));
        Assert.Equal($"{{\"error\":\"invalid_token\",\"error_description\":\"{expected}\"}}", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Request_RevocationFileVanishes_RevokedTokenStaysRefused()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims(jti: "gone-jti"));
        await RevokeAsync(proxy, "gone-jti");

        File.Delete(Path.Combine(proxy.Revoked.Path, "revoked.json"));
        await Task.Delay(2500); // two polls

        using var response = await proxy.PostAsync("/v1/results", token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("revoked", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_TokenRevokedWhileRunning_IsRefusedAfterNextPoll()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        var token = proxy.Forge(new { alg = "HS256", typ = "JWT", kid = "v1" }, ProxyHarness.Claims(jti: "live-jti"));
        using (var before = await proxy.PostAsync("/v1/results", token))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await RevokeAsync(proxy, "live-jti", reloadNow: false);

        var refused = await EventuallyAsync(async () =>
        {
            using var response = await proxy.PostAsync("/v1/results", token);
            return response.StatusCode == HttpStatusCode.Unauthorized;
        }, TimeSpan.FromSeconds(4));
        Assert.True(refused, "the revoked token was still accepted after poll period + margin");
    }

    [Fact]
    public async Task Request_KidAddedAfterStart_IsAcceptedWithoutWaitingForThePoll()
    {
        await using var proxy = await ProxyHarness.StartAsync(s => s["REQUESTS_PROXY_KEYS_POLL_SECONDS"] = "3600");
        var kid = proxy.Keys.AddKey();
        var token = proxy.Forge(new { alg = "HS256", typ = "JWT", kid }, ProxyHarness.Claims(), kid: kid);

        using var response = await proxy.PostAsync("/v1/results", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_MultipleAuthorizationHeaders_Is401Malformed()
    {
        await using var proxy = await ProxyHarness.StartAsync();
        using var request = ProxyHarness.Request(HttpMethod.Post, "/v1/results", proxy.Mint("job-1"), "{}");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + proxy.Mint("job-2"));

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("malformed", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_BeforeKeyRingLoaded_Is503NotA401_ThenAcceptedOnceKeysAppear()
    {
        await using var proxy = await ProxyHarness.StartAsync(writeKeys: false);
        using (var response = await proxy.PostAsync("/v1/results", "a.b.c"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        }

        proxy.Keys.WriteRaw(new Dictionary<string, string> { ["active"] = "v1", ["v1"] = new string('k', 64) });
        var accepted = await EventuallyAsync(async () =>
        {
            using var response = await proxy.PostAsync("/v1/results", proxy.Mint("job-1"));
            return response.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(4));
        Assert.True(accepted);
    }

    internal static Task RevokeAsync(ProxyHarness proxy, string jti, bool reloadNow = true)
    {
        var list = RevocationList.Empty.Add([new RevocationEntry(jti, DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), "job-1")]);
        proxy.Revoked.Write(new Dictionary<string, string> { ["revoked.json"] = Encoding.UTF8.GetString(list.Serialize()) });
        // The harness polls every second; tests that need the list at once force the reload.
        if (reloadNow && proxy.App.Services.GetService(typeof(RequestsProxy.Server.Hosting.TokenSources)) is RequestsProxy.Server.Hosting.TokenSources sources)
        {
            sources.Revocations!.Reload();
        }

        return Task.CompletedTask;
    }

    internal static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }
}
