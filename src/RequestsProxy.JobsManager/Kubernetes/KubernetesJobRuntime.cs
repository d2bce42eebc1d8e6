using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// Jobs as batch/v1 Jobs. Uses only the verbs the chart's RBAC grants: jobs create/get/list/delete,
/// secrets create/patch. The Job is created first so the token Secret can name it as its owner
/// (the garbage collector then deletes the Secret with the Job; the pod waits for the Secret volume).
/// </summary>
internal sealed partial class KubernetesJobRuntime(IKubernetes client, JobsManagerOptions options, ILogger<KubernetesJobRuntime> logger) : IJobRuntime
{
    private const int ListPageSize = 500;
    private const int MaxListPages = 1000;

    private string Namespace => options.Namespace!;

    public string? Validate(JobSpec spec) =>
        spec.Template is null && string.IsNullOrWhiteSpace(spec.Image) ? "the kubernetes runtime needs an 'image' (or a 'template' or 'job')" : null;

    public string TokenFileOf(string name) => KubernetesNames.TokenFile;

    public async Task<LaunchedJob> LaunchAsync(JobSpec spec, JobCredential credential, CancellationToken cancellationToken)
    {
        V1Job created;
        try
        {
            created = await client.BatchV1.CreateNamespacedJobAsync(KubernetesObjects.Job(spec, options), Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new JobConflictException($"a Job named '{spec.Name}' already exists in namespace '{Namespace}'");
        }

        await CreateSecretAsync(created, credential, cancellationToken).ConfigureAwait(false);
        Log.Launched(logger, spec.Name, Namespace, created.Metadata.Uid);
        return new LaunchedJob(KubernetesObjects.State(created), KubernetesNames.TokenFile);
    }

    public async Task DeliverAsync(string name, JobCredential credential, CancellationToken cancellationToken)
    {
        var patch = JsonSerializer.Serialize(new
        {
            metadata = new { annotations = KubernetesObjects.TokenAnnotations(credential) },
            data = new Dictionary<string, string> { [KubernetesNames.TokenKey] = Convert.ToBase64String(Encoding.ASCII.GetBytes(credential.Token)) },
        });
        try
        {
            await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), KubernetesNames.TokenSecretName(name), Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // The Secret never got created (a failure between the two creates): create it now, owned by the Job.
            var job = await client.BatchV1.ReadNamespacedJobAsync(name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            await CreateSecretAsync(job, credential, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            // Background propagation: the pods and the owned token Secret go with the Job
            // (the batch API's default for a plain DELETE orphans the pods).
            await client.BatchV1.DeleteNamespacedJobAsync(name, Namespace, propagationPolicy: "Background", cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, name, Namespace);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    public async Task<IReadOnlyDictionary<string, JobState>> GetStatesAsync(CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, JobState>(StringComparer.Ordinal);
        string? continueToken = null;
        for (var page = 0; page < MaxListPages; page++)
        {
            var list = await client.BatchV1.ListNamespacedJobAsync(Namespace, continueParameter: continueToken,
                labelSelector: KubernetesNames.Selector(options.ReleaseName), limit: ListPageSize, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var job in list.Items)
            {
                states[job.Metadata.Name] = KubernetesObjects.State(job);
            }

            continueToken = list.Metadata?.ContinueProperty;
            if (string.IsNullOrEmpty(continueToken))
            {
                break;
            }
        }

        return states;
    }

    private async Task CreateSecretAsync(V1Job job, JobCredential credential, CancellationToken cancellationToken)
    {
        var secret = KubernetesObjects.TokenSecret(job, credential, options);
        try
        {
            await client.CoreV1.CreateNamespacedSecretAsync(secret, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // A Secret left by an earlier Job of the same name that the garbage collector has not removed yet:
            // take it over (a merge patch replaces ownerReferences whole), or the collector would delete our token.
            var patch = JsonSerializer.Serialize(new
            {
                metadata = new { labels = secret.Metadata.Labels, annotations = secret.Metadata.Annotations, ownerReferences = new[] { KubernetesObjects.Owner(job) } },
                data = new Dictionary<string, string> { [KubernetesNames.TokenKey] = Convert.ToBase64String(secret.Data[KubernetesNames.TokenKey]) },
            }, KubernetesJson.Options);
            await client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), secret.Metadata.Name, Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Created Job {Job} (uid {Uid}) and its token Secret in namespace {Namespace}")]
        public static partial void Launched(ILogger logger, string job, string @namespace, string uid);

        [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Deleted Job {Job} in namespace {Namespace}; its pods and token Secret are garbage-collected")]
        public static partial void Deleted(ILogger logger, string job, string @namespace);
    }
}
