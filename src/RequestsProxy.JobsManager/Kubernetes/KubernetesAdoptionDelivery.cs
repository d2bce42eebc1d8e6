using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Jobs.Adoption;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// The token Secret of an adopted Job: <c>&lt;job&gt;-requests-proxy-token</c> in the Job's namespace,
/// created with an ownerReference to that Job (so the garbage collector deletes it with the Job),
/// refreshed by a whole replacement like the jobs-manager's own. The verbs are the job namespace Role's:
/// secrets create and update, jobs delete — no get or patch, so no Secret is ever read, and an
/// existing Secret of that name is never overwritten by a first delivery.
/// </summary>
internal sealed partial class KubernetesAdoptionDelivery(IKubernetes client, JobsManagerOptions options, TimeProvider time, ILogger<KubernetesAdoptionDelivery> logger) : IAdoptionDelivery
{
    public async Task DeliverAsync(AdoptedJob job, JobCredential credential, bool first, CancellationToken cancellationToken)
    {
        var owner = new V1Job { Metadata = new V1ObjectMeta { Name = job.Name, Uid = job.Uid, NamespaceProperty = job.Namespace } };
        var secret = KubernetesObjects.TokenSecret(owner, credential, options);
        if (!first)
        {
            try
            {
                // A whole replacement (PUT): the jobs-manager knows every field of the Secret it created, so it needs no read,
                // and the answer holds only what it sent (the Role grants no patch: a merge patch answers with the whole object).
                await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, job.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // Deleted by hand: the pods that mount it by name see it come back.
            }
        }

        try
        {
            await client.CoreV1.CreateNamespacedSecretAsync(secret, job.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new AdoptionBlockedException(
                $"a Secret named '{secret.Metadata.Name}' already exists in namespace '{job.Namespace}' — a leftover of an earlier Job of that name " +
                "(the garbage collector removes it once that Job is gone) or someone else's; it is never overwritten");
        }
    }

    public async Task DeleteAsync(AdoptedJob job, CancellationToken cancellationToken)
    {
        try
        {
            // That incarnation only (uid precondition); its pods and token Secret go with it.
            var body = new V1DeleteOptions { PropagationPolicy = "Background", Preconditions = new V1Preconditions { Uid = job.Uid } };
            await client.BatchV1.DeleteNamespacedJobAsync(job.Name, job.Namespace, body, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, job.ToString());
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone, or the name now belongs to a newer Job (the precondition failed): nothing of ours to delete.
        }
    }

    /// <summary>
    /// A Warning Event on the Job (core v1, what <c>kubectl describe job</c> lists), created once: the Role
    /// grants only <c>create</c> on events in the job namespaces, and a create answers with the Event sent.
    /// </summary>
    public async Task WarnAsync(AdoptedJob job, string reason, string message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var warning = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta { Name = $"{job.Name}.{Guid.NewGuid():N}"[..(job.Name.Length + 17)], NamespaceProperty = job.Namespace },
            InvolvedObject = new V1ObjectReference { ApiVersion = "batch/v1", Kind = "Job", Name = job.Name, NamespaceProperty = job.Namespace, Uid = job.Uid },
            Type = "Warning",
            Reason = reason,
            Message = message.Length <= MaxEventMessage ? message : message[..(MaxEventMessage - 1)] + "…",
            Source = new V1EventSource { Component = EventSource },
            ReportingComponent = EventSource,
            ReportingInstance = options.ReleaseName ?? EventSource,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(warning, job.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new InvalidOperationException($"the jobs-manager may not create Events in namespace '{job.Namespace}' (a chart older than its image: the job namespace Role grants create on events)", e);
        }
    }

    /// <summary>The component the Events name (kubectl describe: From).</summary>
    private const string EventSource = "requests-proxy-jobs-manager";

    /// <summary>events.k8s.io limits an Event's note to 1 KiB; a core Event is kept as short (every rule broken is also in the log and the API).</summary>
    private const int MaxEventMessage = 1024;

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Deleted the adopted Job {Job}; its pods and token Secret are garbage-collected")]
        public static partial void Deleted(ILogger logger, string job);
    }
}
