using System.Net;
using System.Text;
using System.Text.Json;
using RequestsProxy.Server.Legacy;
using RequestsProxy.Settings;
using RequestsProxy.Tokens.Admin;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.Server.Tests.Legacy;

/// <summary>
/// Issue 15 C1 at a real legacy proxy on 127.0.0.1: admin requests signed with the admin token as
/// HMAC key are accepted, registrations name tokens by digest, every tampering is refused with a
/// body that says why, and the bearer admin token of an older jobs-manager is accepted only on the
/// compatibility path.
/// </summary>
public sealed class SignedAdminRequestTests
{
    private const string Admin = "admin-secret";
    private const string Token = "b3BhcXVlLWxlZ2FjeS10b2tlbi0wMTIzNDU2Nzg5YWJj";

    private static void Legacy(Dictionary<string, string?> settings) => settings[EnvironmentVariables.Stateless] = "false";

    private static byte[] Registration(string sub = "job-1") =>
        JsonSerializer.SerializeToUtf8Bytes(new { digest = LegacyTokenDigest.Compute(Token), sub, scope = "results:write" });

    /// <summary>A request signed the way the jobs-manager signs it; <paramref name="sign"/> changes what is signed, not what is sent.</summary>
    private static HttpRequestMessage Signed(ProxyHarness proxy, HttpMethod method, string path, byte[]? body,
        string key = Admin, long? timestamp = null, string? target = null, string? signedPath = null, byte[]? signedBody = null, string? signedMethod = null, string? nonce = null)
    {
        var url = new Uri(proxy.Address, path);
        var headers = AdminSignature.Sign(key, signedMethod ?? method.Method, signedPath ?? url.PathAndQuery, target ?? AdminSignature.TargetOf(url),
            signedBody ?? body ?? [], timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), nonce ?? AdminSignature.NewNonce());
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new("application/json");
        }

        foreach (var (name, value) in headers.All)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static async Task<(HttpStatusCode Status, string Reason, string Body)> SendAsync(ProxyHarness proxy, HttpRequestMessage request)
    {
        using (request)
        using (var response = await proxy.Client.SendAsync(request))
        {
            var body = await response.Content.ReadAsStringAsync();
            var reason = body.StartsWith('{') && JsonDocument.Parse(body).RootElement.TryGetProperty("error_description", out var r) ? r.GetString()! : "";
            return (response.StatusCode, reason, body);
        }
    }

    [Fact]
    public async Task SignedRegistrationByDigest_Accepted_AndTheTokenThenAuthenticates()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);

        var registered = await SendAsync(proxy, Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", Registration()));
        using var response = await proxy.PostAsync("/v1/results", Token);

        Assert.Equal(HttpStatusCode.Created, registered.Status);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
    }

    [Fact]
    public async Task SignedSyncAndForgets_Accepted()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var sync = Encoding.UTF8.GetBytes($$"""{"registrations":[{"digest":"{{LegacyTokenDigest.Compute(Token)}}","sub":"job-1","scope":""}]}""");

        var synced = await SendAsync(proxy, Signed(proxy, HttpMethod.Post, "/admin/v1/sync", sync));
        using (var accepted = await proxy.PostAsync("/v1/results", Token))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var byDigest = await SendAsync(proxy, Signed(proxy, HttpMethod.Delete, "/admin/v1/tokens/" + LegacyTokenDigest.Compute(Token), null));
        var bySubject = await SendAsync(proxy, Signed(proxy, HttpMethod.Delete, "/admin/v1/subjects/job-1", null));
        using var refused = await proxy.PostAsync("/v1/results", Token);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (synced.Status, byDigest.Status, bySubject.Status));
        Assert.Contains("\"removed\":1", byDigest.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task SignedRegistrationCarryingTheToken_Is400()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var body = JsonSerializer.SerializeToUtf8Bytes(new { token = Token, sub = "job-1", scope = "" });

        var registered = await SendAsync(proxy, Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body));
        using var response = await proxy.PostAsync("/v1/results", Token);

        Assert.Equal(HttpStatusCode.BadRequest, registered.Status);
        Assert.Contains("never by", registered.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    public static TheoryData<string, HttpStatusCode, string> Tamperings => new()
    {
        { "wrong key", HttpStatusCode.Unauthorized, AdminSignatureReasons.BadSignature },
        { "body changed", HttpStatusCode.Unauthorized, AdminSignatureReasons.BodyMismatch },
        { "body changed, its digest declared", HttpStatusCode.Unauthorized, AdminSignatureReasons.BadSignature },
        { "signed for a DNS name, Host says the same", HttpStatusCode.Forbidden, AdminSignatureReasons.WrongTarget },
        { "signature with spare bits set", HttpStatusCode.Unauthorized, AdminSignatureReasons.Malformed },
        { "path changed", HttpStatusCode.Unauthorized, AdminSignatureReasons.BadSignature },
        { "method changed", HttpStatusCode.Unauthorized, AdminSignatureReasons.BadSignature },
        { "timestamp 90 s old", HttpStatusCode.Unauthorized, AdminSignatureReasons.StaleTimestamp },
        { "timestamp 90 s ahead", HttpStatusCode.Unauthorized, AdminSignatureReasons.StaleTimestamp },
        { "signed for another address", HttpStatusCode.Forbidden, AdminSignatureReasons.WrongTarget },
        { "signed for another address, Host rewritten to it", HttpStatusCode.Forbidden, AdminSignatureReasons.WrongTarget },
        { "signature header missing", HttpStatusCode.Unauthorized, AdminSignatureReasons.Missing },
        { "signature header garbled", HttpStatusCode.Unauthorized, AdminSignatureReasons.Malformed },
        { "signature and the bearer admin token", HttpStatusCode.Unauthorized, AdminSignatureReasons.BadSignature },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task SignedRegistration_Tampered_RefusedWithItsReason_AndRegistersNothing(string tampering, HttpStatusCode status, string reason)
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var body = Registration();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var elsewhere = $"10.244.0.99:{proxy.Address.Port}";
        var request = tampering switch
        {
            "wrong key" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, key: "not-the-admin-token"),
            "body changed" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, signedBody: Registration("job-2")),
            "path changed" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, signedPath: "/admin/v1/sync"),
            "method changed" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, signedMethod: "DELETE"),
            "timestamp 90 s old" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, timestamp: now - 90),
            "timestamp 90 s ahead" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, timestamp: now + 90),
            "signed for another address" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, target: elsewhere),
            "signed for a DNS name, Host says the same" => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, target: $"anything.example:{proxy.Address.Port}"),
            _ => Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", body, key: tampering == "signature and the bearer admin token" ? "not-the-admin-token" : Admin,
                target: tampering.StartsWith("signed for another address", StringComparison.Ordinal) ? elsewhere : null),
        };
        switch (tampering)
        {
            case "signed for another address, Host rewritten to it":
                request.Headers.Host = elsewhere;
                break;
            case "signature header missing":
                request.Headers.Remove(AdminSignature.SignatureHeader);
                break;
            case "signed for a DNS name, Host says the same":
                // Finding B5: the sender writes Host, so a target taken from it would bind nothing.
                request.Headers.Host = $"anything.example:{proxy.Address.Port}";
                break;
            case "body changed, its digest declared":
                request.Headers.Remove(AdminSignature.ContentSha256Header);
                request.Headers.TryAddWithoutValidation(AdminSignature.ContentSha256Header, AdminSignature.BodySha256(Registration("job-2")));
                request.Content = new ByteArrayContent(Registration("job-2"));
                break;
            case "signature with spare bits set":
                // Finding B4: Decode threw on it (a 500 and an Error line for anyone).
                request.Headers.Remove(AdminSignature.SignatureHeader);
                request.Headers.TryAddWithoutValidation(AdminSignature.SignatureHeader, new string('B', AdminSignature.SignatureLength));
                break;
            case "signature header garbled":
                request.Headers.Remove(AdminSignature.SignatureHeader);
                request.Headers.TryAddWithoutValidation(AdminSignature.SignatureHeader, "not base64url!");
                break;
            case "signature and the bearer admin token":
                // A request that claims a signature is judged by it alone: the bearer token counts for nothing.
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Admin);
                break;
        }

        var refused = await SendAsync(proxy, request);
        using var response = await proxy.PostAsync("/v1/results", Token);

        Assert.Equal((status, reason), (refused.Status, refused.Reason));
        Assert.Contains("\"detail\":", refused.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SignedRequest_ReplayedAsIs_Is403ReplayedNonce()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var nonce = AdminSignature.NewNonce();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var first = await SendAsync(proxy, Signed(proxy, HttpMethod.Delete, "/admin/v1/subjects/job-1", null, timestamp: now, nonce: nonce));
        var replay = await SendAsync(proxy, Signed(proxy, HttpMethod.Delete, "/admin/v1/subjects/job-1", null, timestamp: now, nonce: nonce));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.Forbidden, AdminSignatureReasons.Replayed), (replay.Status, replay.Reason));
    }

    [Fact]
    public async Task Bearer_OlderJobsManagerWithRawToken_AcceptedOnTheCompatibilityPath()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { token = Token, sub = "job-1", scope = "results:write" }), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Admin);

        var registered = await SendAsync(proxy, request);
        using var response = await proxy.PostAsync("/v1/results", Token);

        Assert.Equal(HttpStatusCode.Created, registered.Status);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Bearer_CompatibilityPathOff_Is401BearerNotAccepted_WhileSignedStillWorks()
    {
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            Legacy(s);
            s[EnvironmentVariables.AdminAcceptBearer] = "false";
        });
        using var bearer = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { token = Token, sub = "job-1", scope = "" }), Encoding.UTF8, "application/json"),
        };
        bearer.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Admin);

        var refused = await SendAsync(proxy, bearer);
        var signed = await SendAsync(proxy, Signed(proxy, HttpMethod.Post, "/admin/v1/tokens", Registration()));

        Assert.Equal((HttpStatusCode.Unauthorized, "bearer_not_accepted"), (refused.Status, refused.Reason));
        Assert.Contains("REQUESTS_PROXY_ADMIN_ACCEPT_BEARER=false", refused.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, signed.Status);
    }

    [Fact]
    public async Task NoCredentials_Is401NamingTheSignatureHeaders()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/sync") { Content = new StringContent("{\"registrations\":[]}") };

        var refused = await SendAsync(proxy, request);

        Assert.Equal((HttpStatusCode.Unauthorized, AdminSignatureReasons.Missing), (refused.Status, refused.Reason));
        Assert.Contains(AdminSignature.SignatureHeader, refused.Body, StringComparison.Ordinal);
    }

    // Finding A13: the body (up to 4 MiB) was read before anything was checked. A request that no
    // header can authorize is now answered while its declared body has not even been sent.
    [Theory]
    [InlineData("")]
    [InlineData("Authorization: Bearer not-the-admin-token\r\n")]
    [InlineData("X-Requests-Proxy-Admin-Timestamp: 1\r\nX-Requests-Proxy-Admin-Nonce: AAAAAAAAAAAAAAAAAAAAAA\r\nX-Requests-Proxy-Admin-Target: 127.0.0.1:1\r\nX-Requests-Proxy-Admin-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n")]
    public async Task UnauthorizableRequest_IsRefusedBeforeItsBodyArrives(string credentials)
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);

        // Content-Length promises 4 000 000 bytes and none is sent: a gate that awaited the body would
        // give no answer before RawHttp stops reading (status 0).
        var refused = await RawHttp.SendAsync(proxy.Address, $"POST /admin/v1/sync HTTP/1.1\r\n{credentials}Content-Type: application/json\r\nContent-Length: 4000000");

        Assert.Equal(401, refused.Status);
    }

    /// <summary>
    /// Finding B1: headers of the right form, the right time and this replica's own address — all a
    /// training pod can write without the key — got a body slot, so 20 connections that never sent
    /// their body took every slot and each signed request was a 429. Now only the MAC opens a slot:
    /// the forgers are refused before their bodies, and a signed sync among them is answered at once.
    /// </summary>
    [Fact]
    public async Task ForgedButWellFormedSignatures_HoldNoBodySlot_SignedRequestsStillAnswered()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        var forged = $"X-Requests-Proxy-Admin-Timestamp: {DateTimeOffset.UtcNow.ToUnixTimeSeconds()}\r\n"
            + $"X-Requests-Proxy-Admin-Nonce: {AdminSignature.NewNonce()}\r\nX-Requests-Proxy-Admin-Target: {AdminSignature.TargetOf(proxy.Address)}\r\n"
            + $"X-Requests-Proxy-Admin-Signature: {new string('A', AdminSignature.SignatureLength)}\r\n"
            + $"X-Requests-Proxy-Admin-Content-SHA256: {AdminSignature.BodySha256([])}\r\n";
        var forgers = Enumerable.Range(0, AdminGate.ConcurrentBodies + AdminGate.QueuedBodies + 4)
            .Select(_ => RawHttp.SendAsync(proxy.Address, $"POST /admin/v1/sync HTTP/1.1\r\n{forged}Content-Type: application/json\r\nContent-Length: 4000000"))
            .ToList();

        var refused = await Task.WhenAll(forgers);
        var sync = await SendAsync(proxy, Signed(proxy, HttpMethod.Post, "/admin/v1/sync", Encoding.UTF8.GetBytes("{\"registrations\":[]}")));

        Assert.All(refused, r => Assert.Equal(401, r.Status));
        Assert.Equal(HttpStatusCode.OK, sync.Status);
    }
}
