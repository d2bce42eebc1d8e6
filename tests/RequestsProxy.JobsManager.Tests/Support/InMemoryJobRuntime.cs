using System.Collections.Concurrent;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A runtime that only remembers what it was given: for the core's tests.</summary>
internal sealed class InMemoryJobRuntime : IJobRuntime
{
    public ConcurrentDictionary<string, JobCredential> Tokens { get; } = new();

    public ConcurrentDictionary<string, JobState> States { get; } = new();

    public ConcurrentQueue<string> Deleted { get; } = new();

    /// <summary>Called with every token just before it is handed to a job (launch or refresh).</summary>
    public Action<string, JobCredential>? BeforeDelivery { get; set; }

    /// <summary>Set to make the next deliveries fail.</summary>
    public bool FailDeliveries { get; set; }

    public string? Validate(JobSpec spec) => null;

    public string TokenFileOf(string name) => $"/mem/{name}/token";

    public Task<LaunchedJob> LaunchAsync(JobSpec spec, JobCredential credential, CancellationToken cancellationToken)
    {
        if (!States.TryAdd(spec.Name, JobState.Running))
        {
            throw new JobConflictException($"'{spec.Name}' exists");
        }

        BeforeDelivery?.Invoke(spec.Name, credential);
        Tokens[spec.Name] = credential;
        return Task.FromResult(new LaunchedJob(JobState.Running, TokenFileOf(spec.Name)));
    }

    public Task DeliverAsync(JobRef job, JobCredential credential, CancellationToken cancellationToken)
    {
        var name = job.Name;
        if (FailDeliveries)
        {
            throw new IOException("delivery failed (test)");
        }

        BeforeDelivery?.Invoke(name, credential);
        Tokens[name] = credential;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(JobRef job, CancellationToken cancellationToken)
    {
        var name = job.Name;
        States.TryRemove(name, out _);
        Tokens.TryRemove(name, out _);
        Deleted.Enqueue(name);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RuntimeJob>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RuntimeJob>>([.. States.Select(s => new RuntimeJob(s.Key, s.Value))]);
}
