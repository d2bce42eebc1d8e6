using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Tests.Support;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>REQUESTS_PROXY_STATELESS=false: opaque tokens registered with a stand-in for the proxy's legacy admin endpoint.</summary>
public sealed class LegacyModeTests
{
    [Fact]
    public async Task StartStop_Legacy_RegistersOpaqueTokenAndForgetsSubject()
    {
        var calls = new ConcurrentQueue<(string Method, string Path, string Auth, string Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var proxy = builder.Build();
        proxy.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            calls.Enqueue((context.Request.Method, context.Request.Path, context.Request.Headers.Authorization.ToString(), await reader.ReadToEndAsync()));
            context.Response.StatusCode = context.Request.Method == "POST" ? StatusCodes.Status201Created : StatusCodes.Status204NoContent;
        });
        await proxy.StartAsync();

        await using var host = await ApiHost.StartAsync(configure: o =>
        {
            o.Stateless = false;
            o.ProxyUrl = new Uri(proxy.Urls.Single());
        });

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" }, scope = "results:write" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = File.ReadAllText(job.GetProperty("tokenFile").GetString()!);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("token").GetProperty("kid").ValueKind);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("token").GetProperty("expiresAt").ValueKind);

        var register = Assert.Single(calls);
        Assert.Equal(("POST", "/admin/v1/tokens", "Bearer " + ApiHost.AdminToken), (register.Method, register.Path, register.Auth));
        var body = JsonDocument.Parse(register.Body).RootElement;
        Assert.Equal(token, body.GetProperty("token").GetString());
        Assert.Equal("job-1", body.GetProperty("sub").GetString());
        Assert.Equal("results:write", body.GetProperty("scope").GetString());
        Assert.DoesNotContain(".", token, StringComparison.Ordinal);

        // No key ring in legacy mode: readiness and key usage still answer.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/v1/keys/usage")).StatusCode);

        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Contains(calls, c => c is { Method: "DELETE", Path: "/admin/v1/subjects/job-1" });

        // Legacy tokens are forgotten by the proxy, not listed: the revocation list stays empty.
        var revoked = Path.Combine(host.Options.RevokedDirectory, "revoked.json");
        Assert.True(!File.Exists(revoked) || !File.ReadAllText(revoked).Contains("job-1", StringComparison.Ordinal));
        await proxy.StopAsync();
    }
}
