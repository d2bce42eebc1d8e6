using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Settings;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Server.Tests.Admission;

/// <summary>
/// The webhook over real Kestrel and TLS on 127.0.0.1: reviews in and out, malformed bodies are
/// 400s, the webhook's port serves nothing else and the other ports do not serve it, and a renewed
/// certificate is served without a restart.
/// </summary>
[Collection(nameof(Metrics.ProxyMetricsTests))]
public sealed class AdmissionEndpointTests : IAsyncLifetime
{
    private const string Path = "/admission/v1/secrets";

    private readonly TempFolder _tls = new("rp-webhook-tls");
    private ProxyHarness _proxy = null!;
    private string _thumbprint = null!;
    private string? _served;

    public async Task InitializeAsync()
    {
        _thumbprint = TestCertificates.Write(_tls.Path, TestCertificates.Create());
        _proxy = await ProxyHarness.StartAsync(settings: values =>
        {
            values[EnvironmentVariables.AdmissionUrls] = "https://127.0.0.1:0";
            values[EnvironmentVariables.AdmissionTlsDirectory] = _tls.Path;
            values[EnvironmentVariables.AdmissionJobsManagerUser] = SecretAdmissionPolicyTests.JobsManager;
            // A relay limit below a review of two large Secrets: the webhook has its own.
            values[EnvironmentVariables.MaxBodyBytes] = "1048576";
            // The gate's own count, with every client on 127.0.0.1 and stalled bodies: slow senders are AdmissionSlowClientTests'.
            values[EnvironmentVariables.AdmissionMaxConnectionsPerClient] = "0";
            values[EnvironmentVariables.AdmissionBodyTimeoutSeconds] = "120";
            values[EnvironmentVariables.AdmissionMinBodyBytesPerSecond] = "0";
        });
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _tls.Dispose();
    }

    private Uri AdmissionAddress => _proxy.App.Services.GetRequiredService<ProxyListeners>().AdmissionAddresses[0];

    [Fact]
    public async Task Review_JobsManagerReplacesAnUnlabelledSecret_DeniedWith403NamingTheRule()
    {
        var review = Review("UPDATE", SecretAdmissionPolicyTests.JobsManager,
            @object: SecretAdmissionPolicyTests.Secret("default-token-x7k2p", "kubernetes.io/service-account-token", labelled: true),
            old: SecretAdmissionPolicyTests.Secret("default-token-x7k2p", "kubernetes.io/service-account-token"));

        using var response = await PostAsync(review);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("admission.k8s.io/v1", (string?)body["apiVersion"]);
        Assert.Equal("AdmissionReview", (string?)body["kind"]);
        Assert.Equal("uid-1", (string?)body["response"]!["uid"]);
        Assert.False((bool)body["response"]!["allowed"]!);
        Assert.Equal(403, (int)body["response"]!["status"]!["code"]!);
        Assert.Contains("rule replace-own-secrets-only", (string?)body["response"]!["status"]!["message"], StringComparison.Ordinal);
        Assert.Null(body["request"]);
        Assert.Equal(_thumbprint, _served);
        var metrics = await _proxy.MetricsAsync();
        Assert.Contains("requests_proxy_admission_reviews_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("result=\"denied\",rule=\"replace-own-secrets-only\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_admission_certificate_ready{", metrics, StringComparison.Ordinal);
        Assert.Contains("requests_proxy_admission_certificate_expiry_seconds{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Review_AnotherUser_AllowedWithoutStatus()
    {
        using var response = await PostAsync(Review("UPDATE", "system:serviceaccount:kube-system:token-controller",
            @object: SecretAdmissionPolicyTests.Secret("default-token-x", "kubernetes.io/service-account-token"),
            old: SecretAdmissionPolicyTests.Secret("default-token-x", "kubernetes.io/service-account-token")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True((bool)body["response"]!["allowed"]!);
        Assert.Equal("uid-1", (string?)body["response"]!["uid"]);
        Assert.Null(body["response"]!["status"]);
    }

    [Fact]
    public async Task Review_JobsManagerCreatesItsTokenSecret_Allowed()
    {
        using var response = await PostAsync(Review("CREATE", SecretAdmissionPolicyTests.JobsManager,
            @object: SecretAdmissionPolicyTests.Secret("job-1-requests-proxy-token", "Opaque", labelled: true)));

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True((bool)body["response"]!["allowed"]!);
    }

    [Theory]
    [InlineData("", "not an AdmissionReview")]
    [InlineData("not json", "not an AdmissionReview")]
    [InlineData("[]", "not an AdmissionReview")]
    [InlineData("null", "JSON null")]
    [InlineData("{}", "apiVersion is ''")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"userInfo\":{}}}", "not admission.k8s.io/v1")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Review\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"userInfo\":{}}}", "kind is 'Review'")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "no request")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"operation\":\"CREATE\",\"userInfo\":{}}}", "no uid")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":7,\"operation\":\"CREATE\",\"userInfo\":{}}}", "not an AdmissionReview")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"userInfo\":{}}}", "no operation")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\"}}", "no userInfo")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"uid\":\"v\",\"operation\":\"CREATE\",\"userInfo\":{}}}", "not an AdmissionReview")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"userInfo\":{\"username\":[]}}}", "not an AdmissionReview")]
    [InlineData("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"operation\":\"CREATE\",\"userInfo\":{}", "not an AdmissionReview")]
    public async Task Review_Malformed_Is400NamingTheProblem(string body, string problem)
    {
        using var response = await PostRawAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("malformed_review", (string?)answer["error"]);
        Assert.Contains(problem, (string?)answer["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Review_LargerThanTheRelaysBodyLimit_StillJudged()
    {
        // Two Secrets near the 1 MiB object limit, base64 in JSON: ~2.8 MB, over this proxy's 1 MiB relay limit.
        var big = Convert.ToBase64String(new byte[1_000_000]);
        var secret = JsonDocument.Parse($"{{\"type\":\"Opaque\",\"metadata\":{{\"name\":\"pull\"}},\"data\":{{\"x\":\"{big}\"}}}}").RootElement.Clone();

        using var response = await PostAsync(Review("UPDATE", SecretAdmissionPolicyTests.JobsManager, @object: secret, old: secret));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
    }

    [Fact]
    public async Task Review_OverThreeMebibytes_Is413NotJudged()
    {
        var review = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Review("UPDATE", SecretAdmissionPolicyTests.JobsManager,
            @object: JsonDocument.Parse($"{{\"metadata\":{{\"name\":\"x\"}},\"data\":{{\"x\":\"{new string('A', 3 * 1024 * 1024)}\"}}}}").RootElement.Clone())));
        using var client = AdmissionClient();

        using var response = await client.PostAsync(Path, new ByteArrayContent(review) { Headers = { ContentType = new("application/json") } });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.DoesNotContain("result=\"allowed\"", await _proxy.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reviews_MoreAtOnceFromOneAddressThanTheGateHolds_ExtraOnesAre429AndTheHeldOnesStillJudged()
    {
        // Reviews whose bodies stall hold the gate's permits and fill its queue, like a flood of large unauthenticated posts.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var body = JsonSerializer.SerializeToUtf8Bytes(Review("CREATE", SecretAdmissionPolicyTests.JobsManager,
            @object: SecretAdmissionPolicyTests.Secret("job-1-requests-proxy-token", "Opaque", labelled: true)));
        var clients = new List<HttpClient>();
        var held = new List<Task<HttpResponseMessage>>();
        try
        {
            for (var i = 0; i < Server.Admission.AdmissionEndpoints.ConcurrentReviews + Server.Admission.AdmissionEndpoints.QueuedReviewsPerAddress; i++)
            {
                var client = AdmissionClient();
                clients.Add(client);
                held.Add(client.PostAsync(Path, new StalledContent(body, release.Task)));
            }

            // Bounded: once the held reviews have all reached the server, the next one is refused at once. Which of the
            // requests in flight got the slots is the network's choice; what the gate guarantees is the count.
            var answers = new List<HttpResponseMessage>();
            for (var attempt = 0; attempt < 40 && !answers.Any(r => r.StatusCode == HttpStatusCode.TooManyRequests); attempt++)
            {
                var client = AdmissionClient();
                clients.Add(client);
                var extra = client.PostAsync(Path, new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
                if (await Task.WhenAny(extra, Task.Delay(TimeSpan.FromSeconds(1))) == extra)
                {
                    answers.Add(await extra);
                }
                else
                {
                    held.Add(extra);
                }
            }

            Assert.Contains(answers, r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.Contains("result=\"busy\"", await _proxy.MetricsAsync(), StringComparison.Ordinal);

            release.SetResult();
            answers.AddRange(await Task.WhenAll(held));
            foreach (var response in answers)
            {
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Assert.True((bool)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["response"]!["allowed"]!);
                }
            }

            // Every review that got a slot or a place in the queue was judged once the stall ended.
            Assert.True(answers.Count(r => r.StatusCode == HttpStatusCode.OK) >= Server.Admission.AdmissionEndpoints.ConcurrentReviews + Server.Admission.AdmissionEndpoints.QueuedReviewsPerAddress,
                string.Join(", ", answers.GroupBy(r => r.StatusCode).Select(g => $"{g.Key} x{g.Count()}")));
            answers.ForEach(r => r.Dispose());
        }
        finally
        {
            release.TrySetResult();
            clients.ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData("GET", Path)]
    [InlineData("POST", "/v1/results")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/readyz")]
    [InlineData("POST", "/admin/v1/tokens")]
    public async Task OtherPaths_OnTheAdmissionPort_Are404AndNeverRelayed(string method, string path)
    {
        using var client = AdmissionClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + _proxy.Mint("job-1"));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, _proxy.Upstream.Count);
    }

    [Fact]
    public async Task AdmissionPath_OnThePodAndManagementPorts_Is404AndNeverRelayed()
    {
        var review = Review("CREATE", SecretAdmissionPolicyTests.JobsManager, @object: SecretAdmissionPolicyTests.Secret("x", "Opaque"));

        using var pod = await _proxy.Client.SendAsync(Json(review, _proxy.Mint("job-1")));
        using var management = await _proxy.Management.SendAsync(Json(review, null));

        Assert.Equal(HttpStatusCode.NotFound, pod.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, management.StatusCode);
        Assert.Equal(0, _proxy.Upstream.Count);
    }

    [Fact]
    public async Task AdmissionPort_PlainHttp_NeverAnswered()
    {
        var response = await RawHttp.SendAsync(AdmissionAddress, $"POST {Path} HTTP/1.1\r\nContent-Length: 2", "{}"u8.ToArray());

        Assert.NotEqual(200, response.Status);
        Assert.DoesNotContain("AdmissionReview", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificate_RenewedInTheVolume_ServedWithoutRestart()
    {
        using (var first = await PostAsync(Review("CREATE", "someone", @object: SecretAdmissionPolicyTests.Secret("x", "Opaque"))))
        {
            Assert.Equal(_thumbprint, _served);
        }

        var renewed = TestCertificates.Write(_tls.Path, TestCertificates.Create());

        // The poll period is the key ring's (1 s here); each try is a new connection, hence a new handshake.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_served != renewed && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            using var next = await PostAsync(Review("CREATE", "someone", @object: SecretAdmissionPolicyTests.Secret("x", "Opaque")));
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        Assert.Equal(renewed, _served);
    }

    [Fact]
    public async Task Certificate_ReplacedByGarbage_LastGoodOneKept()
    {
        await File.WriteAllTextAsync(System.IO.Path.Combine(_tls.Path, "tls.crt"), "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n");
        // Two poll periods: the bad pair has been read and refused by then.
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        using var response = await PostAsync(Review("CREATE", "someone", @object: SecretAdmissionPolicyTests.Secret("x", "Opaque")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_thumbprint, _served);
        Assert.Contains("requests_proxy_admission_certificate_reload_failures_total", await _proxy.MetricsAsync(), StringComparison.Ordinal);
    }

    private static object Review(string operation, string user, JsonElement? @object = null, JsonElement? old = null) => new
    {
        apiVersion = "admission.k8s.io/v1",
        kind = "AdmissionReview",
        request = new
        {
            uid = "uid-1",
            kind = new { group = "", version = "v1", kind = "Secret" },
            resource = new { group = "", version = "v1", resource = "secrets" },
            name = "x",
            @namespace = "ml-jobs",
            operation,
            userInfo = new { username = user, groups = new[] { "system:authenticated" } },
            @object,
            oldObject = old,
            dryRun = false,
        },
    };

    private static HttpRequestMessage Json(object review, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = JsonContent.Create(review) };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return request;
    }

    private async Task<HttpResponseMessage> PostAsync(object review)
    {
        using var client = AdmissionClient();
        return await client.SendAsync(Json(review, null));
    }

    private async Task<HttpResponseMessage> PostRawAsync(string body)
    {
        using var client = AdmissionClient();
        return await client.PostAsync(Path, new StringContent(body, Encoding.UTF8, "application/json"));
    }

    /// <summary>A client that trusts the test pair and records which certificate the server presented.</summary>
    private HttpClient AdmissionClient()
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    _served = certificate?.GetCertHashString();
                    return certificate is not null;
                },
            },
        };
        return new HttpClient(handler) { BaseAddress = AdmissionAddress, DefaultRequestVersion = HttpVersion.Version11 };
    }

    /// <summary>A JSON body that sends its first byte, then waits for <paramref name="release"/> before the rest.</summary>
    private sealed class StalledContent(byte[] body, Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, 1));
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync(body.AsMemory(1));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
