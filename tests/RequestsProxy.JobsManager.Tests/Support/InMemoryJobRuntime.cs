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

    public Task DeliverAsync(string name, JobCredential credential, CancellationToken cancellationToken)
    {
        if (FailDeliveries)
        {
            throw new IOException("delivery failed (test)");
        }

        BeforeDelivery?.Invoke(name, credential);
        Tokens[name] = credential;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        States.TryRemove(name, out _);
        Tokens.TryRemove(name, out _);
        Deleted.Enqueue(name);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, JobState>> GetStatesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, JobState>>(States.ToDictionary());
}
