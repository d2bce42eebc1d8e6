using System.Net;
using k8s.Autorest;
using RequestsProxy.JobsManager.Kubernetes;

namespace RequestsProxy.JobsManager.Tests.Kubernetes;

/// <summary>A start during a proxy roll: the API server could not reach the Secret webhook for a moment (the CI of 2026-12-02).</summary>
public sealed class WebhookRetryTests
{
    private const string Unreachable = """{"kind":"Status","status":"Failure","message":"Internal error occurred: failed calling webhook \"secrets-create.jobs-manager.requests-proxy.io\": Post \"https://rp-requests-proxy-webhook.ns.svc:443/admission/v1/secrets?timeout=5s\": dial tcp 10.213.1.195:443: connect: no route to host","reason":"InternalError","code":500}""";

    private static HttpOperationException Failure(HttpStatusCode status, string body) =>
        new($"status {(int)status}") { Response = new HttpResponseMessageWrapper(new HttpResponseMessage(status), body) };

    [Fact]
    public async Task WebhookUnreachable_Twice_ThenWritten_OnTheThirdAttempt()
    {
        var attempts = 0;
        await WebhookRetry.RunAsync(() => ++attempts < 3 ? throw Failure(HttpStatusCode.InternalServerError, Unreachable) : Task.CompletedTask,
            new ImmediateTime(), CancellationToken.None);

        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task WebhookUnreachable_EveryTime_FailsAfterTheLastAttempt()
    {
        var attempts = 0;
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => WebhookRetry.RunAsync(
            () => { attempts++; throw Failure(HttpStatusCode.InternalServerError, Unreachable); }, new ImmediateTime(), CancellationToken.None));

        Assert.Equal(WebhookRetry.Attempts, attempts);
        Assert.Contains("failed calling webhook", e.Response.Content, StringComparison.Ordinal);
    }

    [Theory]
    // The webhook answered and refused: its decision stands.
    [InlineData(HttpStatusCode.Forbidden, """{"message":"admission webhook \"secrets-create.jobs-manager.requests-proxy.io\" denied the request: ..."}""")]
    [InlineData(HttpStatusCode.Conflict, """{"reason":"AlreadyExists"}""")]
    // Another internal error than an unreachable webhook.
    [InlineData(HttpStatusCode.InternalServerError, """{"message":"etcdserver: request timed out"}""")]
    public async Task AnyOtherFailure_IsNotRetried(HttpStatusCode status, string body)
    {
        var attempts = 0;
        await Assert.ThrowsAsync<HttpOperationException>(() => WebhookRetry.RunAsync(
            () => { attempts++; throw Failure(status, body); }, new ImmediateTime(), CancellationToken.None));

        Assert.Equal(1, attempts);
    }

    /// <summary>Delays end at once: the test counts attempts, not seconds.</summary>
    private sealed class ImmediateTime : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            return timer;
        }
    }
}
