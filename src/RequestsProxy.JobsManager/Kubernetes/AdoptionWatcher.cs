using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Api;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Jobs.Adoption;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// Adopt mode's eyes: per watched namespace, a list of the Jobs labelled
/// <c>requests-proxy.io/token=true</c> (its resourceVersion) and then a watch from there, resumed
/// from the last resourceVersion seen when the server closes it, re-listed when that version is too
/// old (410 Gone). Every change goes into the <see cref="AdoptionCache"/> first, then to the
/// <see cref="JobManager"/>'s adopter — so a new Job gets its token as soon as the API server reports it,
/// not at the next poll. Started before the maintenance loop, whose first restore waits for the lists.
/// Each Job seen is judged by the start request's rules (<see cref="JobTemplateValidator.ValidateAdopted"/>):
/// the manifest is all there is, and a Job's pod template cannot be changed.
/// </summary>
internal sealed partial class AdoptionWatcher(IKubernetes client, AdoptionCache cache, JobManager jobs, JobsManagerOptions options, TimeProvider time, ILogger<AdoptionWatcher> logger)
    : BackgroundService
{
    private const int ListPageSize = 500;
    private const int MaxListPages = 1000;

    /// <summary>The server ends a watch after this long (the client then resumes it): a dead connection is noticed within it.</summary>
    private const int WatchTimeoutSeconds = 300;

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, string?> _listedVersions = new(StringComparer.Ordinal);

    private long _watches;
    private long _relists;

    /// <summary>Watch requests made so far (each resume is one).</summary>
    public long Watches => Interlocked.Read(ref _watches);

    /// <summary>Lists made by the loop: after a 410 Gone, or when the first list at start-up failed.</summary>
    public long Relists => Interlocked.Read(ref _relists);

    /// <summary>The first list of every namespace before the host goes on (so the restore sees every adopted Job); a failure is retried by the loop.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var ns in cache.Namespaces)
        {
            try
            {
                _listedVersions[ns] = await ListAsync(ns, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _listedVersions[ns] = null;
                Log.ListFailed(logger, ns, e);
            }
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(cache.Namespaces.Select(ns => WatchNamespaceAsync(ns, _listedVersions.GetValueOrDefault(ns), stoppingToken)));

    private async Task WatchNamespaceAsync(string ns, string? resourceVersion, CancellationToken stoppingToken)
    {
        var backoff = FirstBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is null)
                {
                    Interlocked.Increment(ref _relists);
                    resourceVersion = await ListAsync(ns, stoppingToken).ConfigureAwait(false);
                }

                var expired = false;
                var events = 0;
                var opened = time.GetTimestamp();
                Interlocked.Increment(ref _watches);
                var watch = client.BatchV1.WatchListNamespacedJobAsync(ns, allowWatchBookmarks: true, labelSelector: AdoptionNames.Selector,
                    resourceVersion: resourceVersion, timeoutSeconds: WatchTimeoutSeconds, onError: e =>
                {
                    if (e is KubernetesException { Status.Code: (int)HttpStatusCode.Gone })
                    {
                        expired = true;
                    }
                    else
                    {
                        Log.WatchError(logger, ns, e);
                    }
                }, cancellationToken: stoppingToken);
                await foreach (var (type, job) in watch.ConfigureAwait(false))
                {
                    resourceVersion = job.Metadata?.ResourceVersion ?? resourceVersion;
                    backoff = FirstBackoff;
                    events++;
                    await ApplyAsync(ns, type, job, stoppingToken).ConfigureAwait(false);
                }

                if (expired)
                {
                    // Events between that version and now are lost: only a fresh list knows what is there.
                    Log.Expired(logger, ns, resourceVersion);
                    resourceVersion = null;
                }
                else if (events == 0 && time.GetElapsedTime(opened) < TimeSpan.FromSeconds(1))
                {
                    // Closed at once with nothing said: do not spin on a server that keeps doing that.
                    await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
                }
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
            {
                Log.Expired(logger, ns, resourceVersion);
                resourceVersion = null;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                Log.WatchFailed(logger, ns, backoff, e);
                await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
            }
        }
    }

    private async Task ApplyAsync(string ns, WatchEventType type, V1Job job, CancellationToken cancellationToken)
    {
        if (type is not (WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted) || Observe(ns, job) is not { } observed)
        {
            return;
        }

        if (type == WatchEventType.Deleted)
        {
            cache.Remove(observed.Job);
            await jobs.AdoptedGoneAsync(observed.Job, cancellationToken).ConfigureAwait(false);
            return;
        }

        cache.Upsert(observed);
        await jobs.ObserveAdoptedAsync(observed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists the labelled Jobs of the namespace into the cache (paged); returns the list's resourceVersion to watch from.</summary>
    private async Task<string> ListAsync(string ns, CancellationToken cancellationToken)
    {
        var listed = new List<ObservedJob>();
        string? continueToken = null;
        string? version = null;
        for (var page = 0; page < MaxListPages; page++)
        {
            var list = await client.BatchV1.ListNamespacedJobAsync(ns, continueParameter: continueToken, labelSelector: AdoptionNames.Selector, limit: ListPageSize,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            listed.AddRange(list.Items.Select(j => Observe(ns, j)).OfType<ObservedJob>());
            version ??= list.Metadata?.ResourceVersion;
            continueToken = list.Metadata?.ContinueProperty;
            if (string.IsNullOrEmpty(continueToken))
            {
                break;
            }
        }

        var vanished = cache.Replace(ns, listed);
        Log.Listed(logger, ns, listed.Count, vanished.Count);
        foreach (var gone in vanished)
        {
            await jobs.AdoptedGoneAsync(gone.Job, cancellationToken).ConfigureAwait(false);
        }

        foreach (var observed in listed)
        {
            await jobs.ObserveAdoptedAsync(observed, cancellationToken).ConfigureAwait(false);
        }

        return version ?? throw new InvalidOperationException($"the list of Jobs in namespace '{ns}' carried no resourceVersion");
    }

    private ObservedJob? Observe(string ns, V1Job job)
    {
        if (job.Metadata is not { Name: { } name, Uid: { } uid })
        {
            return null;
        }

        job.Metadata.NamespaceProperty ??= ns;
        return new ObservedJob(new AdoptedJob(job.Metadata.NamespaceProperty, name, uid), KubernetesObjects.State(job),
            JobTemplateValidator.ValidateAdopted(job, options.PodPolicy, options.Namespace));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 530, Level = LogLevel.Information, Message = "Listed {Count} labelled Jobs in namespace {Namespace} ({Vanished} adopted ones gone since the last list)")]
        public static partial void Listed(ILogger logger, string @namespace, int count, int vanished);

        [LoggerMessage(EventId = 531, Level = LogLevel.Information, Message = "The watch of labelled Jobs in namespace {Namespace} expired at resourceVersion {ResourceVersion} (410 Gone); re-listing")]
        public static partial void Expired(ILogger logger, string @namespace, string? resourceVersion);

        [LoggerMessage(EventId = 532, Level = LogLevel.Warning, Message = "The watch of labelled Jobs in namespace {Namespace} failed; resuming in {Backoff}")]
        public static partial void WatchFailed(ILogger logger, string @namespace, TimeSpan backoff, Exception exception);

        [LoggerMessage(EventId = 533, Level = LogLevel.Warning, Message = "The watch of labelled Jobs in namespace {Namespace} reported an error")]
        public static partial void WatchError(ILogger logger, string @namespace, Exception exception);

        [LoggerMessage(EventId = 534, Level = LogLevel.Error, Message = "Could not list the labelled Jobs of namespace {Namespace}; retried by the watch loop")]
        public static partial void ListFailed(ILogger logger, string @namespace, Exception exception);
    }
}
