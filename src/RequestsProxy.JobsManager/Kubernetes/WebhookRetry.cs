using System.Net;
using k8s.Autorest;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// The token Secret's and the Job's admission webhooks are served by the proxy pods. While they roll, the webhook's
/// Service can still name a pod that is gone for a few seconds, and the API server answers the write
/// with 500 "failed calling webhook" (seen on the real node in the CI of 2026-12-02: a start during a
/// proxy roll failed with 502). Nothing was written then, so the write is made again: at most
/// <see cref="Attempts"/> times, 1 s and then 2 s apart. Any other failure goes to the caller at once.
/// </summary>
internal static class WebhookRetry
{
    public const int Attempts = 3;

    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(Func<Task> write, TimeProvider time, CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException e) when (attempt < Attempts && IsWebhookUnreachable(e))
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }

    /// <summary>The API server could not reach a webhook (a 500 naming it), as opposed to a webhook's refusal (a 400/403 with its message).</summary>
    public static bool IsWebhookUnreachable(HttpOperationException e) =>
        e.Response?.StatusCode == HttpStatusCode.InternalServerError
        && e.Response.Content?.Contains("failed calling webhook", StringComparison.Ordinal) == true;
}
