using System.Collections.Concurrent;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Jobs.Adoption;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>Token Secrets of adopted Jobs in memory: what was delivered to which Job, and which names are taken.</summary>
internal sealed class InMemoryAdoptionDelivery : IAdoptionDelivery
{
    /// <summary>The token each Job's Secret holds now, by Job.</summary>
    public ConcurrentDictionary<AdoptedJob, JobCredential> Secrets { get; } = new();

    /// <summary>Every delivery in order: the Job, the jti, and whether it was the first (create) or a refresh (patch).</summary>
    public ConcurrentQueue<(AdoptedJob Job, string Jti, bool First)> Deliveries { get; } = new();

    public ConcurrentQueue<AdoptedJob> Deleted { get; } = new();

    /// <summary>Secret names taken by someone else (namespace, name): a create there is refused.</summary>
    public ConcurrentDictionary<(string Namespace, string Name), bool> Taken { get; } = new();

    public Task DeliverAsync(AdoptedJob job, JobCredential credential, bool first, CancellationToken cancellationToken)
    {
        if (first && Taken.ContainsKey((job.Namespace, job.Name)))
        {
            throw new AdoptionBlockedException($"a Secret named '{job.Name}-requests-proxy-token' already exists (test)");
        }

        Secrets[job] = credential;
        Deliveries.Enqueue((job, credential.Facts.Jti, first));
        return Task.CompletedTask;
    }

    public Task DeleteAsync(AdoptedJob job, CancellationToken cancellationToken)
    {
        Deleted.Enqueue(job);
        return Task.CompletedTask;
    }

    /// <summary>Every Warning written on a Job: which one, the reason and the message.</summary>
    public ConcurrentQueue<(AdoptedJob Job, string Reason, string Message)> Warnings { get; } = new();

    public Task WarnAsync(AdoptedJob job, string reason, string message, CancellationToken cancellationToken)
    {
        Warnings.Enqueue((job, reason, message));
        return Task.CompletedTask;
    }
}
