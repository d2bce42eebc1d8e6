using System.Net;
using System.Net.Http.Json;
using RequestsProxy.Testing.Processes;

namespace RequestsProxy.Client.Tests.Handler;

/// <summary>The .NET client against the real requests-proxy process and a real upstream.</summary>
public sealed class AgainstProxyProcessTests
{
    [Fact]
    public async Task SendAsync_ProxySigkilledAndRestarted_EveryResultDeliveredUnderItsOwnKey()
    {
        await using var proxy = await ProxyProcess.StartAsync();
        var options = new RequestsProxyClientOptions { TokenFile = proxy.TokenFileFor("job-kill"), Deadline = TimeSpan.FromSeconds(60), BackoffCap = TimeSpan.FromMilliseconds(500) };
        using var client = RequestsProxyHttpClient.Create(options, proxy.Address);
        const int total = 40;
        var answers = new List<HttpResponseMessage>();
        var done = 0;

        var training = Task.Run(async () =>
        {
            for (var epoch = 0; epoch < total; epoch++)
            {
                answers.Add(await client.PostAsJsonAsync("/v1/jobs/job-kill/results", new { epoch }));
                Interlocked.Increment(ref done);
                await Task.Delay(20);
            }
        });
        while (Volatile.Read(ref done) < total / 3 && !training.IsCompleted)
        {
            await Task.Delay(10);
        }

        proxy.Kill();
        await Task.Delay(500);
        await proxy.StartAsync();
        await training.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Contains(answers, a => RequestsProxyHandler.AttemptsOf(a) > 1);
        var sent = answers.Select(a => a.RequestMessage!.Headers.GetValues("Idempotency-Key").Single()).ToList();
        Assert.Equal(total, sent.Distinct().Count());
        var received = proxy.Upstream.Requests.Select(r => r.Header("Idempotency-Key")).ToHashSet();
        // Each logical request arrived; one relayed just before the kill may have arrived twice,
        // under the same key, which an upstream de-duplicating by subject + key counts once.
        Assert.True(received.SetEquals(sent), $"sent {sent.Count} keys, upstream saw {received.Count} distinct");
        Assert.All(proxy.Upstream.Requests, r => Assert.Equal("job-kill", r.Header("X-Requests-Proxy-Subject")));
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task SendAsync_OverTheJobsRateLimit_WaitsRetryAfterThenDelivered()
    {
        await using var proxy = await ProxyProcess.StartAsync(new ProxyProcessOptions { Environment = new Dictionary<string, string?>
        {
            ["REQUESTS_PROXY_RATE_LIMIT_PER_SECOND"] = "0.5",
            ["REQUESTS_PROXY_RATE_LIMIT_BURST"] = "1",
        } });
        using var client = RequestsProxyHttpClient.Create(new RequestsProxyClientOptions { TokenFile = proxy.TokenFileFor("job-busy") }, proxy.Address);

        using var first = await client.PostAsJsonAsync("/v1/jobs/job-busy/results", new { epoch = 1 });
        using var second = await client.PostAsJsonAsync("/v1/jobs/job-busy/results", new { epoch = 2 });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(RequestsProxyHandler.AttemptsOf(second) >= 2, $"second request: {RequestsProxyHandler.AttemptsOf(second)} attempt(s)");
        Assert.True(second.RequestMessage!.Options.TryGetValue(RequestsProxyHandler.LastRetryDelayOption, out var waited));
        Assert.True(waited >= TimeSpan.FromSeconds(1), $"waited {waited} after a 429 with Retry-After: 1");
        Assert.Equal(2, proxy.Upstream.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().Count());
        Assert.Equal(2, proxy.Upstream.Count);
    }

    [Fact]
    public async Task SendAsync_CallerKey_RelayedUntouchedByTheProxy()
    {
        await using var proxy = await ProxyProcess.StartAsync();
        using var client = RequestsProxyHttpClient.Create(new RequestsProxyClientOptions { TokenFile = proxy.TokenFileFor("job-key") }, proxy.Address);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs/job-key/results") { Content = JsonContent.Create(new { epoch = 9 }) };
        const string key = "Epoch-9/Step 3;a=b,c";
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(key, Assert.Single(proxy.Upstream.Requests).Header("Idempotency-Key"));
    }
}
