using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Server.Tests.Admission;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Server.Tests.Metrics;

/// <summary>
/// Finding A12 of 2026-12-02: refusals were logged under a budget, but the legacy admin refusals
/// (event 42) and the admission webhook's malformed reviews (event 63) were not, nor a streamed body
/// cut at the limit (24) or a failed relay beyond the access log's sampling (50). Every per-request
/// line a caller can cause at will now shares one budget: N hostile requests write at most the
/// budget's number of lines.
/// </summary>
public sealed class RefusalLogFloodTests
{
    private const int Budget = 5;
    private const int Hostile = 30;

    /// <summary>The per-request refusal events (27, the summary, is not one of them: it rides with a line that fits).</summary>
    private static readonly int[] RefusalEvents = [20, 21, 22, 23, 24, 25, 42, 50, 62, 63];

    [Fact]
    public async Task PodFacingPort_EveryKindOfRefusalFlooded_AtMostTheBudgetsLines()
    {
        var log = new FakeLogCollector();
        await using var proxy = await StartAsync(log, settings: values =>
        {
            values[EnvironmentVariables.MaxBodyBytes] = "1024";
            values[EnvironmentVariables.AccessLog] = "true";
            values[EnvironmentVariables.AccessLogEvery] = "1000";
        });
        proxy.Upstream.Handler = context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        };
        var token = proxy.Mint("job-1", "results:write");
        var forged = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");
        string[] heads =
        [
            $"POST /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {forged}\r\nContent-Length: 0",
            "POST /v1/jobs/job-1/results HTTP/1.1\r\nContent-Length: 0",
            $"POST /v1/jobs/job-2/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0",
            $"POST //v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0",
            $"GET /admin/v1/tokens HTTP/1.1\r\nAuthorization: Bearer {token}",
            $"TRACE /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {token}",
            $"POST /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 4096",
            $"POST /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nUpgrade: websocket\r\nConnection: Upgrade",
            // A relay the upstream fails (500): logged beyond the sampling only within the budget.
            $"POST /v1/jobs/job-1/results HTTP/1.1\r\nAuthorization: Bearer {token}\r\nContent-Length: 0",
        ];

        for (var i = 0; i < Hostile; i++)
        {
            var response = await RawHttp.SendAsync(proxy.Address, heads[i % heads.Length]);
            Assert.True(response.Status is >= 400 and < 600, response.Text);
        }

        for (var i = 0; i < Hostile / 3; i++)
        {
            // A chunked body cut at the limit (event 24).
            var response = await RawHttp.PostChunkedAsync(proxy.Address, "/v1/jobs/job-1/results", token, 2048);
            Assert.True(response.Status is 413 or 0, response.Text);
        }

        AssertWithinBudget(log);
    }

    [Fact]
    public async Task LegacyAdminEndpoints_RefusalsFlooded_AtMostTheBudgetsLines()
    {
        var log = new FakeLogCollector();
        await using var proxy = await StartAsync(log, settings: values => values[EnvironmentVariables.Stateless] = "false");

        for (var i = 0; i < Hostile; i++)
        {
            var head = (i % 3) switch
            {
                0 => "POST /admin/v1/tokens HTTP/1.1\r\nAuthorization: Bearer wrong-admin-token\r\nContent-Length: 0",
                1 => "POST /admin/v1/tokens HTTP/1.1\r\nX-Requests-Proxy-Admin-Signature: x\r\nContent-Length: 0",
                _ => "DELETE /admin/v1/subjects/job-1 HTTP/1.1\r\nContent-Length: 0",
            };
            var response = await RawHttp.SendAsync(proxy.Address, head);
            Assert.True(response.Status is 401 or 403, response.Text);
        }

        Assert.Contains(log.GetSnapshot(), r => r.Id.Id == 42);
        AssertWithinBudget(log);
    }

    [Fact]
    public async Task AdmissionPort_MalformedReviewsFlooded_AtMostTheBudgetsLines()
    {
        using var tls = new TempFolder("rp-webhook-tls");
        TestCertificates.Write(tls.Path, TestCertificates.Create());
        var log = new FakeLogCollector();
        await using var proxy = await StartAsync(log, settings: values =>
        {
            values[EnvironmentVariables.AdmissionUrls] = "https://127.0.0.1:0";
            values[EnvironmentVariables.AdmissionTlsDirectory] = tls.Path;
            values[EnvironmentVariables.AdmissionJobsManagerUser] = SecretAdmissionPolicyTests.JobsManager;
        });
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null },
        };
        using var client = new HttpClient(handler)
        {
            BaseAddress = proxy.App.Services.GetRequiredService<ProxyListeners>().AdmissionAddresses[0],
            DefaultRequestVersion = HttpVersion.Version11,
        };

        for (var i = 0; i < Hostile; i++)
        {
            var body = i % 2 == 0 ? "not json" : "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}";
            using var response = await client.PostAsync("/admission/v1/secrets", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Contains(log.GetSnapshot(), r => r.Id.Id == 63);
        AssertWithinBudget(log);
    }

    [Fact]
    public async Task Connections_FloodOverTheCap_NoLinePerConnectionButCounted()
    {
        // Kestrel wrote a Warning (ConnectionRejected) for every connection over REQUESTS_PROXY_MAX_CONNECTIONS.
        var log = new FakeLogCollector();
        await using var proxy = await StartAsync(log, settings: values => values[EnvironmentVariables.MaxConnections] = "2");
        using var rejected = new MetricCollector<long>(proxy.App.Services.GetRequiredService<IMeterFactory>(),
            ProxyApp.KestrelMeterName, ProxyApp.KestrelRejectedConnections);
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 2 + Hostile; i++)
            {
                var client = new TcpClient();
                held.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, proxy.Address.Port);
            }

            for (var i = 0; i < 50 && rejected.GetMeasurementSnapshot().Sum(m => m.Value) < Hostile; i++)
            {
                await Task.Delay(100);
            }
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }

        Assert.Equal(Hostile, rejected.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.DoesNotContain(log.GetSnapshot(), r => r.Category == ProxyApp.KestrelConnectionsLogCategory && r.Level >= LogLevel.Warning);
        Assert.Contains("kestrel_rejected_connections_total{", await proxy.MetricsAsync(), StringComparison.Ordinal);
    }

    private static async Task<ProxyHarness> StartAsync(FakeLogCollector log, Action<Dictionary<string, string?>> settings)
    {
        // A frozen clock: one budget window for the whole flood.
        var budget = new RefusalLogBudget(new FakeTimeProvider(), perSecond: Budget);
        var proxy = await ProxyHarness.StartAsync(settings: settings, routes: Forwarding.SubjectBindingTests.RoutesWithCatchAll,
            builder: b => b.Services.AddSingleton(budget));
        proxy.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(new FakeLoggerProvider(log));
        return proxy;
    }

    private static void AssertWithinBudget(FakeLogCollector log)
    {
        var lines = log.GetSnapshot().Where(r => RefusalEvents.Contains(r.Id.Id)).ToList();
        Assert.NotEmpty(lines);
        Assert.True(lines.Count <= Budget, $"{lines.Count} refusal lines for a budget of {Budget}: " +
            string.Join(" | ", lines.Select(r => $"{r.Id.Id} {r.Message}")));
    }
}
