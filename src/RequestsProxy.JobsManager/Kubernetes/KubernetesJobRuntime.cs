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
internal sealed partial class KubernetesJobRuntime(IKubernetes client, JobsManagerOptions options, ILogger<KubernetesJobRuntime> logger, TimeProvider? time = null) : IJobRuntime
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private const int ListPageSize = 500;
    private const int MaxListPages = 1000;

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
        V1Job created = null!;
        try
        {
            // The Job goes through the proxy-served Job admission webhook too (docs/operations.md, "Workload admission").
            var job = KubernetesObjects.Job(spec with { Namespace = ns }, options);
            await WebhookRetry.RunAsync(async () => created = await client.BatchV1.CreateNamespacedJobAsync(job, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                _time, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new JobConflictException($"a Job named '{spec.Name}' already exists in namespace '{ns}'");
        }

        try
        {
            var secret = KubernetesObjects.TokenSecret(created, credential, options);
            await WebhookRetry.RunAsync(() => client.CoreV1.CreateNamespacedSecretAsync(secret, ns, cancellationToken: cancellationToken), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Created since the probe. Not ours to take over: it may be someone else's, and changing its
            // ownerReferences needs delete rights on it (OwnerReferencesPermissionEnforcement). The Job goes again.
            await DeleteJobAsync(spec.Name, ns, created.Metadata.Uid, CancellationToken.None).ConfigureAwait(false);
            throw new JobConflictException(LeftoverSecret(spec.Name, ns));
        }

        Log.Launched(logger, spec.Name, ns, created.Metadata.Uid);
        return new LaunchedJob(KubernetesObjects.State(created), KubernetesNames.TokenFile, created.Metadata.Uid);
    }

    /// <summary>
    /// Replaces the token Secret whole (PUT): the jobs-manager knows every field of the Secret it
    /// created, so it needs no read of it, and the answer holds only what it sent. The Job is read first (its
    /// uid is the Secret's owner): a Job of that name with another uid than the one recorded is not this job
    /// — someone deleted ours and created theirs, whose pods mount the Secret by name — so it gets nothing.
    /// </summary>
    public async Task DeliverAsync(JobRef job, JobCredential credential, CancellationToken cancellationToken)
    {
        var (name, ns) = (job.Name, job.Namespace ?? options.DefaultJobNamespace!);
        var read = await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (job.Uid is { } uid && read.Metadata?.Uid != uid)
        {
            Log.NotOursNoToken(logger, name, ns, read.Metadata?.Uid ?? "?", uid);
            throw new InvalidOperationException($"the Job '{name}' in namespace '{ns}' is not the one the jobs-manager created (uid {read.Metadata?.Uid}, not {uid}): no token is delivered to it");
        }

        var secret = KubernetesObjects.TokenSecret(read, credential, options);
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

    public async Task DeleteAsync(JobRef job, CancellationToken cancellationToken)
    {
        // A job this process does not know (a stop of an unknown name) is looked for in every job namespace.
        foreach (var ns in job.Namespace is { } known ? [known] : Namespaces)
        {
            await DeleteJobAsync(job.Name, ns, job.Uid, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<RuntimeJob>> ListAsync(CancellationToken cancellationToken)
    {
        var jobs = new List<RuntimeJob>();
        foreach (var ns in Namespaces)
        {
            string? continueToken = null;
            for (var page = 0; page < MaxListPages; page++)
            {
                var list = await client.BatchV1.ListNamespacedJobAsync(ns, continueParameter: continueToken,
                    labelSelector: KubernetesNames.Selector(options.ReleaseName), limit: ListPageSize, cancellationToken: cancellationToken).ConfigureAwait(false);
                // Every labelled Job, in every job namespace: labels anyone may set, so each is only a candidate (matched by uid).
                jobs.AddRange(list.Items.Select(job => new RuntimeJob(job.Metadata.Name, KubernetesObjects.State(job), job.Metadata.NamespaceProperty ?? ns, job.Metadata.Uid)));
                continueToken = list.Metadata?.ContinueProperty;
                if (string.IsNullOrEmpty(continueToken))
                {
                    break;
                }
            }
        }

        return jobs;
    }

    public bool IsInScope(string? ns) => ns is null || Namespaces.Contains(ns, StringComparer.Ordinal);

    /// <summary>
    /// A GET of the Job in its own namespace (the chart grants none there after an upgrade from the
    /// release-namespace layout: 403 is <see cref="JobState.Unreachable"/>, never gone). A Job of that
    /// name that is not this one (another uid than the recorded one; with none recorded yet, not our labels)
    /// means this one is gone.
    /// </summary>
    public async Task<RuntimeJob> GetOutOfScopeStateAsync(JobRef job, CancellationToken cancellationToken)
    {
        var (name, ns) = (job.Name, job.Namespace!);
        try
        {
            var read = await client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            var ours = job.Uid is { } uid
                ? read.Metadata?.Uid == uid
                : read.Metadata?.Labels is { } labels && Label(labels, KubernetesNames.JobNameLabel) == name
                    && Label(labels, KubernetesNames.ManagedByLabel) == KubernetesNames.ManagedByValue
                    && (options.ReleaseName is null || Label(labels, KubernetesNames.ReleaseLabel) == options.ReleaseName);
            if (!ours)
            {
                if (job.Uid is not null)
                {
                    Log.NotOursOutOfScope(logger, name, ns, read.Metadata?.Uid ?? "?", job.Uid);
                }

                return new RuntimeJob(name, JobState.Missing, ns);
            }

            return new RuntimeJob(name, KubernetesObjects.State(read), ns, read.Metadata?.Uid);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return new RuntimeJob(name, JobState.Missing, ns);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            // Its refreshes and its delete are still tried there (and refused): an operator may grant the rights back.
            return new RuntimeJob(name, JobState.Unreachable, ns);
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
            await WebhookRetry.RunAsync(() => client.CoreV1.CreateNamespacedSecretAsync(probe, ns, dryRun: "All", cancellationToken: cancellationToken), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            throw new JobConflictException(LeftoverSecret(job, ns));
        }
    }

    /// <param name="uid">Only that incarnation (a uid precondition); null: whatever Job has the name (an entry from before uids, an unknown name).</param>
    private async Task DeleteJobAsync(string name, string ns, string? uid, CancellationToken cancellationToken)
    {
        try
        {
            // Background propagation: the pods and the owned token Secret go with the Job
            // (the batch API's default for a plain DELETE orphans the pods).
            var body = new V1DeleteOptions { PropagationPolicy = "Background", Preconditions = uid is null ? null : new V1Preconditions { Uid = uid } };
            await client.BatchV1.DeleteNamespacedJobAsync(name, ns, body, cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, name, ns);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && uid is not null)
        {
            // The precondition failed: the name is someone else's Job now (ours is gone). Not ours to delete.
            Log.NotOursNotDeleted(logger, name, ns, uid);
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
        [LoggerMessage(EventId = 511, Level = LogLevel.Warning,
            Message = "Job {Job} in namespace {Namespace} has uid {Uid}, not {Recorded} (the Job the jobs-manager created): not ours, so no token is delivered to it; its own job is listed missing")]
        public static partial void NotOursNoToken(ILogger logger, string job, string @namespace, string uid, string recorded);

        [LoggerMessage(EventId = 512, Level = LogLevel.Warning,
            Message = "Job {Job} in namespace {Namespace} is not the Job of uid {Recorded} the jobs-manager created (the uid precondition failed): left alone, not deleted")]
        public static partial void NotOursNotDeleted(ILogger logger, string job, string @namespace, string recorded);

        [LoggerMessage(EventId = 513, Level = LogLevel.Warning,
            Message = "Job {Job} in namespace {Namespace} (not a job namespace) has uid {Uid}, not {Recorded}: not ours; the job the ledger records is gone")]
        public static partial void NotOursOutOfScope(ILogger logger, string job, string @namespace, string uid, string recorded);

        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Created Job {Job} (uid {Uid}) and its token Secret in namespace {Namespace}")]
        public static partial void Launched(ILogger logger, string job, string @namespace, string uid);

        [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "Deleted Job {Job} in namespace {Namespace}; its pods and token Secret are garbage-collected")]
        public static partial void Deleted(ILogger logger, string job, string @namespace);

        [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "Job {Job} in namespace {Namespace} (not a job namespace) has its tokens revoked, but the jobs-manager may not delete it there: " +
            "kubectl -n {Namespace} delete job {Job} --cascade=background")]
        public static partial void DeleteRefused(ILogger logger, string job, string @namespace);
    }
}
