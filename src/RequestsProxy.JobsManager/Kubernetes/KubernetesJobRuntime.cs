using System.Collections.Concurrent;
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
/// Jobs as batch/v1 Jobs in the job namespaces (JOBS_MANAGER_JOB_NAMESPACES), never in the release
/// namespace that holds the keys. Uses only the verbs the chart's per-namespace Role grants: jobs
/// create/get/list/watch/delete, secrets create/update — no get, list, watch or patch of any Secret,
/// so it reads no Secret it did not write (a merge patch answers with the whole object). The Job is
/// created first so the token Secret can name it as its owner (the garbage collector then deletes the
/// Secret with the Job; the pod waits for the Secret volume).
/// </summary>
internal sealed partial class KubernetesJobRuntime(IKubernetes client, JobsManagerOptions options, ILogger<KubernetesJobRuntime> logger) : IJobRuntime
{
    private const int ListPageSize = 500;
    private const int MaxListPages = 1000;

    /// <summary>Where each job lives, learnt from its launch and from every listing (names are unique across the job namespaces).</summary>
    private readonly ConcurrentDictionary<string, string> _namespaces = new(StringComparer.Ordinal);

    private IReadOnlyList<string> Namespaces => options.EffectiveJobNamespaces;

    public string? Validate(JobSpec spec) =>
        spec.Template is null && string.IsNullOrWhiteSpace(spec.Image) ? "the kubernetes runtime needs an 'image' (or a 'template' or 'job')" : null;

    public string TokenFileOf(string name) => KubernetesNames.TokenFile;

    public async Task<LaunchedJob> LaunchAsync(JobSpec spec, JobCredential credential, CancellationToken cancellationToken)
    {
        var ns = spec.Namespace ?? options.DefaultJobNamespace!;

        // A Secret of the token's name already there is found before the Job exists, so no pod of ours
        // ever mounts someone else's Secret: a dry-run create (the jobs-manager may not read Secrets).
        await ProbeTokenSecretNameAsync(spec.Name, ns, cancellationToken).ConfigureAwait(false);
        V1Job created;
        try
        {
            created = await client.BatchV1.CreateNamespacedJobAsync(KubernetesObjects.Job(spec with { Namespace = ns }, options), ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new JobConflictException($"a Job named '{spec.Name}' already exists in namespace '{ns}'");
        }

        _namespaces[spec.Name] = ns;
        try
        {
            await client.CoreV1.CreateNamespacedSecretAsync(KubernetesObjects.TokenSecret(created, credential, options), ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Created since the probe. Not ours to take over: it may be someone else's, and changing its
            // ownerReferences needs delete rights on it (OwnerReferencesPermissionEnforcement). The Job goes again.
            await DeleteJobAsync(spec.Name, ns, CancellationToken.None).ConfigureAwait(false);
            _namespaces.TryRemove(spec.Name, out _);
            throw new JobConflictException(LeftoverSecret(spec.Name, ns));
        }

        Log.Launched(logger, spec.Name, ns, created.Metadata.Uid);
        return new LaunchedJob(KubernetesObjects.State(created), KubernetesNames.TokenFile);
    }

    /// <summary>
    /// Replaces the token Secret whole (PUT): the jobs-manager knows every field of the Secret it
    /// created, so it needs no read, and the answer holds only what it sent.
    /// </summary>
    public async Task DeliverAsync(string name, JobCredential credential, CancellationToken cancellationToken)
    {
        var ns = NamespaceOf(name);
        var job = await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        var secret = KubernetesObjects.TokenSecret(job, credential, options);
        try
        {
            await client.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // The Secret is gone (deleted by hand, or never created): create it again, owned by the Job.
            try
            {
                await client.CoreV1.CreateNamespacedSecretAsync(secret, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException conflict) when (conflict.Response.StatusCode == HttpStatusCode.Conflict)
            {
                throw new InvalidOperationException(LeftoverSecret(name, ns), conflict);
            }
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        // A job this process never saw (a stop of an unknown name) is looked for in every job namespace.
        foreach (var ns in _namespaces.TryGetValue(name, out var known) ? [known] : Namespaces)
        {
            await DeleteJobAsync(name, ns, cancellationToken).ConfigureAwait(false);
        }

        _namespaces.TryRemove(name, out _);
    }

    public async Task<IReadOnlyDictionary<string, JobState>> GetStatesAsync(CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, JobState>(StringComparer.Ordinal);
        foreach (var ns in Namespaces)
        {
            string? continueToken = null;
            for (var page = 0; page < MaxListPages; page++)
            {
                var list = await client.BatchV1.ListNamespacedJobAsync(ns, continueParameter: continueToken,
                    labelSelector: KubernetesNames.Selector(options.ReleaseName), limit: ListPageSize, cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var job in list.Items)
                {
                    if (states.TryAdd(job.Metadata.Name, KubernetesObjects.State(job)))
                    {
                        _namespaces[job.Metadata.Name] = ns;
                    }
                }

                continueToken = list.Metadata?.ContinueProperty;
                if (string.IsNullOrEmpty(continueToken))
                {
                    break;
                }
            }
        }

        return states;
    }

    public bool IsInScope(string? ns) => ns is null || Namespaces.Contains(ns, StringComparer.Ordinal);

    /// <summary>
    /// A GET of the Job in its own namespace (the chart grants none there after an upgrade from the
    /// release-namespace layout: 403 is <see cref="JobState.Unreachable"/>, never gone). A Job of that
    /// name that is not this one (other labels, another uid) means this one is gone.
    /// </summary>
    public async Task<JobState> GetOutOfScopeStateAsync(string name, string ns, string? adoptedUid, CancellationToken cancellationToken)
    {
        try
        {
            var job = await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            var ours = adoptedUid is not null
                ? job.Metadata?.Uid == adoptedUid
                : job.Metadata?.Labels is { } labels && Label(labels, KubernetesNames.JobNameLabel) == name
                    && Label(labels, KubernetesNames.ManagedByLabel) == KubernetesNames.ManagedByValue
                    && (options.ReleaseName is null || Label(labels, KubernetesNames.ReleaseLabel) == options.ReleaseName);
            if (!ours)
            {
                return JobState.Missing;
            }

            _namespaces[name] = ns;
            return KubernetesObjects.State(job);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return JobState.Missing;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            // Its refreshes and its delete are still tried there (and refused): an operator may grant the rights back.
            _namespaces[name] = ns;
            return JobState.Unreachable;
        }
    }

    private static string? Label(IDictionary<string, string> labels, string key) => labels.TryGetValue(key, out var value) ? value : null;

    private async Task ProbeTokenSecretNameAsync(string job, string ns, CancellationToken cancellationToken)
    {
        // Labelled like the real Secret: the Secret admission webhook's objectSelector then lets it through
        // without a call (an unlabelled create by the jobs-manager is denied), so the probe still answers 409 or 201.
        var probe = new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Type = "Opaque",
            Metadata = new V1ObjectMeta { Name = KubernetesNames.TokenSecretName(job), NamespaceProperty = ns, Labels = KubernetesNames.Labels(job, options.ReleaseName) },
        };
        try
        {
            await client.CoreV1.CreateNamespacedSecretAsync(probe, ns, dryRun: "All", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new JobConflictException(LeftoverSecret(job, ns));
        }
    }

    private string NamespaceOf(string name) => _namespaces.TryGetValue(name, out var ns) ? ns : options.DefaultJobNamespace!;

    private async Task DeleteJobAsync(string name, string ns, CancellationToken cancellationToken)
    {
        try
        {
            // Background propagation: the pods and the owned token Secret go with the Job
            // (the batch API's default for a plain DELETE orphans the pods).
            await client.BatchV1.DeleteNamespacedJobAsync(name, ns, propagationPolicy: "Background", cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, name, ns);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden && !IsInScope(ns))
        {
            // A job of the release-namespace layout the jobs-manager may no longer touch: its tokens are revoked
            // by now (a stop revokes first); the Job itself is the operator's to delete.
            Log.DeleteRefused(logger, name, ns);
        }
    }

    private static string LeftoverSecret(string job, string ns) =>
        $"a Secret named '{KubernetesNames.TokenSecretName(job)}' already exists in namespace '{ns}' and the jobs-manager does not take over a Secret "
        + "it did not create for this Job: if an earlier Job of that name was just deleted, the garbage collector removes it within seconds (retry); "
        + "otherwise delete it or choose another name";

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Created Job {Job} (uid {Uid}) and its token Secret in namespace {Namespace}")]
        public static partial void Launched(ILogger logger, string job, string @namespace, string uid);

        [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Deleted Job {Job} in namespace {Namespace}; its pods and token Secret are garbage-collected")]
        public static partial void Deleted(ILogger logger, string job, string @namespace);

        [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Job {Job} in namespace {Namespace} (not a job namespace) has its tokens revoked, but the jobs-manager may not delete it there: " +
            "kubectl -n {Namespace} delete job {Job} --cascade=background")]
        public static partial void DeleteRefused(ILogger logger, string job, string @namespace);
    }
}
