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
internal sealed partial class KubernetesAdoptionDelivery(IKubernetes client, JobsManagerOptions options, ILogger<KubernetesAdoptionDelivery> logger) : IAdoptionDelivery
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Information, Message = "Deleted the adopted Job {Job}; its pods and token Secret are garbage-collected")]
        public static partial void Deleted(ILogger logger, string job);
    }
}
