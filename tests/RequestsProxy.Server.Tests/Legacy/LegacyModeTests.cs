using System.Net;
using System.Net.Http.Json;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;

namespace RequestsProxy.Server.Tests.Legacy;

public sealed class LegacyModeTests
{
    private static void Legacy(Dictionary<string, string?> settings) => settings[EnvironmentVariables.Stateless] = "false";

    [Fact]
    public async Task RegisteredOpaqueToken_IsForwardedWithItsSubject()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);

        using var registered = await RegisterAsync(proxy, "admin-secret", "opaque-1", "job-1");
        using var response = await proxy.PostAsync("/v1/results", "opaque-1");

        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("job-1", proxy.Upstream.Last!.Header("X-Requests-Proxy-Subject"));
        Assert.Null(proxy.Upstream.Last!.Header("X-Requests-Proxy-Jti"));
        Assert.Equal("Bearer " + ProxyHarness.Credential, proxy.Upstream.Last!.Header("Authorization"));
    }

    [Fact]
    public async Task UnregisteredToken_Is401UnknownToken()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);

        using var response = await proxy.PostAsync("/v1/results", "never-registered");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"unknown_token\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Register_WrongOrMissingAdminToken_Is401AndRegistersNothing()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);

        using var wrong = await RegisterAsync(proxy, "not-the-admin", "opaque-1", "job-1");
        using var missing = await RegisterAsync(proxy, null, "opaque-1", "job-1");
        using var response = await proxy.PostAsync("/v1/results", "opaque-1");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Register_SubThatIsNotWellFormedUnicode_Is400AndTheTokenStaysUnknown()
    {
        // A lone surrogate has no UTF-8 form: the subject header could not tell it from U+FFFD.
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens") { Content = new StringContent("{\"token\":\"opaque-9\",\"sub\":\"a\\ud800b\"}") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");
        using var registered = await proxy.Client.SendAsync(request);

        using var response = await proxy.PostAsync("/v1/results", "opaque-9");

        Assert.Equal(HttpStatusCode.BadRequest, registered.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\", error_description=\"unknown_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(0, proxy.Upstream.Count);
    }

    [Fact]
    public async Task Register_InvalidBody_Is400()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens") { Content = new StringContent("{\"token\":\"has space\",\"sub\":\"j\"}") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task ForgetSubject_TokensOfThatJobStopWorking()
    {
        await using var proxy = await ProxyHarness.StartAsync(Legacy);
        (await RegisterAsync(proxy, "admin-secret", "opaque-1", "job-1")).Dispose();
        (await RegisterAsync(proxy, "admin-secret", "opaque-2", "job-1")).Dispose();
        (await RegisterAsync(proxy, "admin-secret", "opaque-3", "job-2")).Dispose();
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/admin/v1/subjects/job-1");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer admin-secret");

        using var forgot = await proxy.Client.SendAsync(request);
        using var first = await proxy.PostAsync("/v1/results", "opaque-1");
        using var other = await proxy.PostAsync("/v1/results", "opaque-3");

        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        Assert.Contains("\"removed\":2", await forgot.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Restart_LosesEveryRegistration_TheProblemStatelessModeSolves()
    {
        var values = new Dictionary<string, string?>();
        await using var proxy = await ProxyHarness.StartAsync(s =>
        {
            Legacy(s);
            foreach (var (k, v) in s)
            {
                values[k] = v;
            }
        });
        (await RegisterAsync(proxy, "admin-secret", "opaque-1", "job-1")).Dispose();

        await proxy.RestartAsync(values);
        using var response = await proxy.PostAsync("/v1/results", "opaque-1");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AdminEndpoints_InStatelessMode_Are404AndNeverForwarded()
    {
        await using var proxy = await ProxyHarness.StartAsync();

        using var response = await RegisterAsync(proxy, "admin-secret", "opaque-1", "job-1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, proxy.Upstream.Count);
    }

    private static Task<HttpResponseMessage> RegisterAsync(ProxyHarness proxy, string? admin, string token, string sub)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tokens")
        {
            Content = JsonContent.Create(new { token, sub, scope = "results:write flops:write" }),
        };
        if (admin is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + admin);
        }

        return proxy.Client.SendAsync(request);
    }
}
