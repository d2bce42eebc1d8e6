using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Client.Tests.Handler;

/// <summary>The contract's rules, one by one, against real Kestrel on loopback.</summary>
public sealed class RequestsProxyHandlerTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("rp-client");
    private ScriptedProxy _proxy = null!;

    private string TokenFile => _folder.Combine("token");

    public async Task InitializeAsync()
    {
        File.WriteAllText(TokenFile, "token-1\n");
        _proxy = await ScriptedProxy.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        _folder.Dispose();
    }

    private HttpClient Client(Action<RequestsProxyClientOptions>? configure = null, Uri? address = null)
    {
        var options = new RequestsProxyClientOptions { TokenFile = TokenFile, Deadline = TimeSpan.FromSeconds(20), BackoffBase = TimeSpan.FromMilliseconds(20), BackoffCap = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return RequestsProxyHttpClient.Create(options, address ?? _proxy.Address);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, object? body = null) =>
        client.PostAsJsonAsync("/v1/jobs/job-1/results", body ?? new { epoch = 1 });

    [Fact]
    public async Task SendAsync_Ok_SendsTokenFromFileAndOneFreshKey()
    {
        using var client = Client();
        using var first = await PostAsync(client);
        using var second = await PostAsync(client);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(1, RequestsProxyHandler.AttemptsOf(first));
        Assert.Equal(["Bearer token-1", "Bearer token-1"], _proxy.Sent("Authorization"));
        var keys = _proxy.Sent("Idempotency-Key");
        Assert.All(keys, k => Assert.Matches("^[0-9a-f]{32}$", k));
        Assert.NotEqual(keys[0], keys[1]);
    }

    [Fact]
    public async Task SendAsync_RetriedAnswers_SameKeyOnEveryAttempt()
    {
        _proxy.Then(503, "0").Then(502).Then(429, "0").Then(504);
        using var client = Client();
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(5, RequestsProxyHandler.AttemptsOf(response));
        var keys = _proxy.Sent("Idempotency-Key");
        Assert.Equal(5, keys.Count);
        Assert.Single(keys.Distinct());
        Assert.All(_proxy.Server.Requests, r => Assert.Equal("{\"epoch\":1}", r.BodyText));
    }

    [Fact]
    public async Task SendAsync_CallerKey_KeptOnEveryAttempt()
    {
        _proxy.Then(503, "0");
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs/job-1/results") { Content = JsonContent.Create(new { epoch = 2 }) };
        request.Headers.Add("Idempotency-Key", "epoch-2");
        using var response = await client.SendAsync(request);

        Assert.Equal(["epoch-2", "epoch-2"], _proxy.Sent("Idempotency-Key"));
    }

    [Fact]
    public async Task SendAsync_TokenFileRewritten_NextRequestSendsTheNewToken()
    {
        using var client = Client();
        (await PostAsync(client)).Dispose();
        File.WriteAllText(TokenFile, "token-2");
        (await PostAsync(client)).Dispose();

        Assert.Equal(["Bearer token-1", "Bearer token-2"], _proxy.Sent("Authorization"));
    }

    [Fact]
    public async Task SendAsync_401AndTokenChangedOnDisk_RetriedOnceWithTheNewToken()
    {
        _proxy.Then(401, before: () => File.WriteAllText(TokenFile, "token-2"));
        using var client = Client();
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], _proxy.Sent("Authorization"));
        Assert.Single(_proxy.Sent("Idempotency-Key").Distinct());
    }

    [Fact]
    public async Task SendAsync_401TokenUnchanged_ReturnedAfterOneAttempt()
    {
        _proxy.Then(401);
        using var client = Client();
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, RequestsProxyHandler.AttemptsOf(response));
        Assert.Contains("expired", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendAsync_401TwiceTokenChangedEachTime_RetriedOnlyOnce()
    {
        var n = 1;
        _proxy.Then(401, before: () => File.WriteAllText(TokenFile, $"token-{++n}"))
            .Then(401, before: () => File.WriteAllText(TokenFile, $"token-{++n}"));
        using var client = Client();
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, _proxy.Server.Requests.Count);
    }

    [Fact]
    public async Task SendAsync_429WithRetryAfter_WaitsAtLeastThatLong()
    {
        _proxy.Then(429, "1");
        using var client = Client();
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.RequestMessage!.Options.TryGetValue(RequestsProxyHandler.LastRetryDelayOption, out var delay));
        Assert.InRange(delay, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.1));
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1), $"answered after {started.Elapsed}");
    }

    [Fact]
    public async Task SendAsync_RetryAfterHttpDate_WaitsUntilThen()
    {
        _proxy.Then(503, DateTimeOffset.UtcNow.AddSeconds(30).ToString("R"));
        using var client = Client(o => o.MaxRetryAfter = TimeSpan.FromMilliseconds(300));
        using var response = await PostAsync(client);

        // The date is 30 s away; the cap brings it down to 300 ms (+ up to 10 %).
        Assert.True(response.RequestMessage!.Options.TryGetValue(RequestsProxyHandler.LastRetryDelayOption, out var delay));
        Assert.InRange(delay, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(330));
    }

    [Fact]
    public async Task SendAsync_RetryAfterBeyondDeadline_AnswerReturnedWithoutWaiting()
    {
        _proxy.Then(429, "60");
        using var client = Client(o => o.Deadline = TimeSpan.FromSeconds(10));
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(1, RequestsProxyHandler.AttemptsOf(response));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(413)]
    [InlineData(500)]
    public async Task SendAsync_OtherErrors_NotRetried(int status)
    {
        _proxy.Then(status);
        using var client = Client();
        using var response = await PostAsync(client);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Single(_proxy.Server.Requests);
    }

    [Fact]
    public async Task SendAsync_AnswerCutMidBody_RetriedAndWholeAnswerRead()
    {
        _proxy.Then(async context =>
        {
            context.Response.ContentLength = 1000;
            await context.Response.WriteAsync("{\"partial\":");
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        using var client = Client();
        using var response = await PostAsync(client);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, RequestsProxyHandler.AttemptsOf(response));
        Assert.Single(_proxy.Sent("Idempotency-Key").Distinct());
    }

    [Fact]
    public async Task SendAsync_NothingListening_UnavailableAtTheDeadline()
    {
        using var client = Client(o => o.Deadline = TimeSpan.FromSeconds(1), new Uri($"http://127.0.0.1:{FreePort()}/"));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RequestsProxyUnavailableException>(() => PostAsync(client));

        Assert.True(error.Attempts > 2, $"{error.Attempts} attempts");
        Assert.Matches("^[0-9a-f]{32}$", error.IdempotencyKey);
        Assert.Contains("within 1 s", error.Message, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SendAsync_CallerCancels_OperationCanceledNotUnavailable()
    {
        using var client = Client(address: new Uri($"http://127.0.0.1:{FreePort()}/"));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PostAsJsonAsync("/x", new { }, cancel.Token));
    }

    [Fact]
    public async Task SendAsync_TokenFileMissing_ConfigurationErrorAndNothingSent()
    {
        File.Delete(TokenFile);
        using var client = Client();
        var error = await Assert.ThrowsAsync<RequestsProxyConfigurationException>(() => PostAsync(client));

        Assert.Contains(TokenFile, error.Message, StringComparison.Ordinal);
        Assert.Empty(_proxy.Server.Requests);
    }

    [Fact]
    public async Task SendAsync_FixedToken_UsedWhenNoFile()
    {
        using var client = Client(o => (o.TokenFile, o.Token) = (null, "fixed-token"));
        (await PostAsync(client)).Dispose();

        Assert.Equal(["Bearer fixed-token"], _proxy.Sent("Authorization"));
    }

    [Fact]
    public void Options_CapBelowBase_Refused()
    {
        var options = new RequestsProxyClientOptions { TokenFile = TokenFile, BackoffBase = TimeSpan.FromSeconds(2), BackoffCap = TimeSpan.FromSeconds(1) };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RequestsProxyHandler(options));
        Assert.Equal("BackoffCap", error.ParamName);
    }

    [Fact]
    public async Task AddRequestsProxyHandler_HttpClientFactory_KeepsTheContract()
    {
        _proxy.Then(503, "0");
        var services = new ServiceCollection();
        services.AddHttpClient("proxy", c => c.BaseAddress = _proxy.Address).AddRequestsProxyHandler(o => o.TokenFile = TokenFile);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("proxy");

        using var response = await PostAsync(client);

        Assert.Equal(Timeout.InfiniteTimeSpan, client.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _proxy.Server.Requests.Count);
        Assert.Single(_proxy.Sent("Idempotency-Key").Distinct());
    }

    [Fact]
    public async Task SendAsync_ServerStartsLate_ConnectionErrorsRetriedThenDelivered()
    {
        var port = FreePort();
        using var client = Client(address: new Uri($"http://127.0.0.1:{port}/"));
        var sending = PostAsync(client);
        await Task.Delay(700);
        Assert.False(sending.IsCompleted);
        await using var late = await LateServer.StartAsync(port);

        using var response = await sending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(RequestsProxyHandler.AttemptsOf(response) > 1);
    }

    private static int FreePort() => RequestsProxy.Testing.Processes.ProxyProcess.FreePort();
}
