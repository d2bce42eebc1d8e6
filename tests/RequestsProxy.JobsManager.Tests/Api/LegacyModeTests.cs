using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Tests.Support;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Hosting;
using RequestsProxy.Tokens.Admin;
using RequestsProxy.Tokens.Legacy;

namespace RequestsProxy.JobsManager.Tests.Api;

/// <summary>REQUESTS_PROXY_STATELESS=false: opaque tokens registered with a stand-in for the proxy's legacy admin endpoint.</summary>
public sealed class LegacyModeTests
{
    [Fact]
    public async Task StartStop_Legacy_SendsDigestsAndSignaturesNeverTheAdminTokenOrTheToken()
    {
        await using var proxy = await StandInProxy.StartAsync();
        await using var host = await ApiHost.StartAsync(configure: o =>
        {
            o.Stateless = false;
            o.ProxyUrl = proxy.Url;
            o.LegacySyncInterval = TimeSpan.FromMilliseconds(200);
        });

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" }, scope = "results:write" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = File.ReadAllText((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tokenFile").GetString()!).Trim();
        await Eventually.TrueAsync(() => proxy.Calls.Any(c => c.Path == "/admin/v1/sync" && c.Body.Contains(LegacyTokenDigest.Compute(token), StringComparison.Ordinal)), "a sync carrying the young registration");
        using (var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1"))
        {
            Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        }

        var calls = proxy.Calls.ToList();
        Assert.Contains(calls, c => c.Path == "/admin/v1/tokens");
        Assert.Contains(calls, c => c.Path == "/admin/v1/sync");
        Assert.Contains(calls, c => c.Path == "/admin/v1/subjects/job-1");

        // What a pod on this address receives: neither the admin token nor the job's token, anywhere in any request.
        var verifier = new AdminSignatureVerifier(TimeProvider.System);
        var target = AdminSignature.TargetOf(proxy.Url);
        foreach (var call in calls)
        {
            Assert.DoesNotContain(ApiHost.AdminToken, call.Raw, StringComparison.Ordinal);
            Assert.DoesNotContain(token, call.Raw, StringComparison.Ordinal);
            Assert.Equal("", call.Auth);
            Assert.Equal(target, call.Header(AdminSignature.TargetHeader));
            var signed = new AdminSignedRequest(call.Method, call.RawTarget, System.Text.Encoding.UTF8.GetBytes(call.Body),
                call.Header(AdminSignature.TimestampHeader), call.Header(AdminSignature.NonceHeader), call.Header(AdminSignature.TargetHeader), call.Header(AdminSignature.SignatureHeader), call.Header(AdminSignature.ContentSha256Header));
            Assert.Equal(AdminSignatureFailure.None, verifier.Verify(ApiHost.AdminToken, signed, [target]));
        }

        var registration = JsonDocument.Parse(Assert.Single(calls, c => c.Path == "/admin/v1/tokens").Body).RootElement;
        Assert.Equal(LegacyTokenDigest.Compute(token), registration.GetProperty("digest").GetString());
        Assert.False(registration.TryGetProperty("token", out _));
        var sync = JsonDocument.Parse(calls.First(c => c.Path == "/admin/v1/sync" && c.Body.Contains("job-1", StringComparison.Ordinal)).Body).RootElement;
        Assert.All(sync.GetProperty("registrations").EnumerateArray(), r => Assert.False(r.TryGetProperty("token", out _)));
    }

    [Fact]
    public async Task StartStop_Legacy_RegistersOpaqueTokenAndForgetsSubject()
    {
        await using var proxy = await StandInProxy.StartAsync();
        var calls = proxy.Calls;

        await using var host = await ApiHost.StartAsync(configure: o =>
        {
            o.Stateless = false;
            o.ProxyUrl = proxy.Url;
        });

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" }, scope = "results:write" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = await created.Content.ReadFromJsonAsync<JsonElement>();
        var token = File.ReadAllText(job.GetProperty("tokenFile").GetString()!);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("token").GetProperty("kid").ValueKind);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("token").GetProperty("expiresAt").ValueKind);

        var register = Assert.Single(calls, c => c.Path == "/admin/v1/tokens");
        Assert.Equal(("POST", "/admin/v1/tokens", ""), (register.Method, register.Path, register.Auth));
        var body = JsonDocument.Parse(register.Body).RootElement;
        Assert.Equal(LegacyTokenDigest.Compute(token), body.GetProperty("digest").GetString());
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
    }

    [Fact]
    public async Task StartStop_SeveralReplicas_EveryReplicaRegistersAndForgets()
    {
        await using var first = await StandInProxy.StartAsync();
        await using var second = await StandInProxy.StartAsync();
        await using var host = await StartWithReplicasAsync(first, second);

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = File.ReadAllText((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tokenFile").GetString()!);

        // The same opaque token on both: whichever replica the Service picks knows the job.
        foreach (var replica in new[] { first, second })
        {
            var register = Assert.Single(replica.Calls, c => c.Path == "/admin/v1/tokens");
            Assert.Equal(LegacyTokenDigest.Compute(token), JsonDocument.Parse(register.Body).RootElement.GetProperty("digest").GetString());
        }

        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Contains(first.Calls, c => c is { Method: "DELETE", Path: "/admin/v1/subjects/job-1" });
        Assert.Contains(second.Calls, c => c is { Method: "DELETE", Path: "/admin/v1/subjects/job-1" });
    }

    [Fact]
    public async Task Start_OneReplicaRefuses_StartFailsNamingThatReplicaAndNoJobRuns()
    {
        await using var first = await StandInProxy.StartAsync();
        await using var refusing = await StandInProxy.StartAsync(StatusCodes.Status503ServiceUnavailable);
        await using var host = await StartWithReplicasAsync(first, refusing);

        using var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } });

        Assert.False(created.IsSuccessStatusCode);
        Assert.True((int)created.StatusCode is >= 500 and < 600, $"HTTP {(int)created.StatusCode}");
        var error = await created.Content.ReadAsStringAsync();
        Assert.Contains(refusing.Url.ToString(), error, StringComparison.Ordinal);
        Assert.Contains("503", error, StringComparison.Ordinal);
        var jobs = await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs");
        Assert.DoesNotContain("job-1", jobs.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Endpoints_PodsHost_ResolvesEveryAddressOnThePodsPort()
    {
        var options = new JobsManagerOptions { ProxyUrl = new Uri("http://rp-requests-proxy.ns.svc:80"), ProxyPodsHost = "localhost", ProxyPodsPort = 8888 };

        var endpoints = await new DnsLegacyProxyEndpoints(options).ResolveAsync(CancellationToken.None);

        Assert.NotEmpty(endpoints.Legacy);
        Assert.Empty(endpoints.Others);
        Assert.All(endpoints.Legacy, uri => Assert.Equal(8888, uri.Port));
        Assert.All(endpoints.Legacy, uri => Assert.True(IPAddress.IsLoopback(IPAddress.Parse(uri.Host.Trim('[', ']'))), uri.ToString()));
    }

    [Fact]
    public async Task Endpoints_NoPodsHost_IsTheProxyUrl()
    {
        var options = new JobsManagerOptions { ProxyUrl = new Uri("http://127.0.0.1:8888") };

        Assert.Equal([options.ProxyUrl], (await new DnsLegacyProxyEndpoints(options).ResolveAsync(CancellationToken.None)).Legacy);
    }

    [Fact]
    public async Task Endpoints_UnresolvableHost_SaysWhichSetting()
    {
        var options = new JobsManagerOptions { ProxyPodsHost = "no-such-proxy-pods.invalid" };

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => new DnsLegacyProxyEndpoints(options).ResolveAsync(CancellationToken.None));

        Assert.Contains("REQUESTS_PROXY_PODS_DNS", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("REQUESTS_PROXY_PODS_DNS", "rp-requests-proxy-pods.ns.svc", null)]
    [InlineData("REQUESTS_PROXY_PODS_DNS", "http://rp-requests-proxy-pods", "is not a DNS name")]
    [InlineData("REQUESTS_PROXY_PODS_DNS", "bad host", "is not a DNS name")]
    [InlineData("REQUESTS_PROXY_PODS_PORT", "8888", null)]
    [InlineData("REQUESTS_PROXY_PODS_PORT", "0", "is not a port number")]
    [InlineData("REQUESTS_PROXY_PODS_PORT", "http", "is not a port number")]
    public void Options_PodsDnsAndPort_Validated(string name, string value, string? error)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [name] = value }).Build();

        if (error is null)
        {
            var options = JobsManagerOptions.FromConfiguration(configuration);
            Assert.Equal(value, name.EndsWith("DNS", StringComparison.Ordinal) ? options.ProxyPodsHost : options.ProxyPodsPort?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            var thrown = Assert.Throws<InvalidSettingsException>(() => JobsManagerOptions.FromConfiguration(configuration));
            Assert.Contains($"{name}: '{value}' {error}", thrown.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Stop_OneReplicaGoneAfterTheStart_200NamingIt_TheJobIsDeleted()
    {
        await using var first = await StandInProxy.StartAsync();
        var second = await StandInProxy.StartAsync();
        await using var host = await StartWithReplicasAsync(first, second);
        using (var created = await host.Client.PostAsJsonAsync("/v1/jobs", new { name = "job-1", command = new[] { "/bin/sh", "-c", "sleep 30" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var gone = second.Url;
        await second.DisposeAsync();
        using var stopped = await host.Client.DeleteAsync("/v1/jobs/job-1");

        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        var body = await stopped.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("known").GetBoolean());
        Assert.Contains(gone.ToString(), Assert.Single(body.GetProperty("unconfirmedReplicas").EnumerateArray()).GetString(), StringComparison.Ordinal);
        using var view = await host.Client.GetAsync("/v1/jobs/job-1");
        Assert.Equal(HttpStatusCode.NotFound, view.StatusCode);
        Assert.Contains(first.Calls, c => c.Method == "DELETE" && c.Path == "/admin/v1/subjects/job-1");
    }

    private static Task<ApiHost> StartWithReplicasAsync(params StandInProxy[] replicas) =>
        ApiHost.StartAsync(
            configure: o =>
            {
                o.Stateless = false;
                o.ProxyUrl = replicas[0].Url;
            },
            configureBuilder: b => b.Services.AddSingleton<ILegacyProxyEndpoints>(new StaticLegacyEndpoints([.. replicas.Select(r => r.Url)])));

    /// <summary>One request as the stand-in received it: every header, the raw request target and the body.</summary>
    private sealed record ReceivedCall(string Method, string Path, string RawTarget, string Auth, IReadOnlyDictionary<string, string> Headers, string Body)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

        /// <summary>Everything that went over the wire, to search for a secret.</summary>
        public string Raw => $"{Method} {RawTarget}\n{string.Join("\n", Headers.Select(h => h.Key + ": " + h.Value))}\n\n{Body}";
    }

    /// <summary>A stand-in for one proxy replica's legacy admin endpoint on 127.0.0.1 (real Kestrel): records every call.</summary>
    private sealed class StandInProxy : IAsyncDisposable
    {
        private LoopbackApp _app = null!;

        public ConcurrentQueue<ReceivedCall> Calls { get; } = new();

        public Uri Url => _app.Url;

        public static async Task<StandInProxy> StartAsync(int? status = null)
        {
            var self = new StandInProxy();
            self._app = await LoopbackApp.StartAsync(async context =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
                var rawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
                self.Calls.Enqueue(new ReceivedCall(context.Request.Method, context.Request.Path, rawTarget, context.Request.Headers.Authorization.ToString(), headers, await reader.ReadToEndAsync()));
                context.Response.StatusCode = status ?? (context.Request.Method == "POST" ? StatusCodes.Status201Created : StatusCodes.Status204NoContent);
            });
            return self;
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
