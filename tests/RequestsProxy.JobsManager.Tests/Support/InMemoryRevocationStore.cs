using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.Revocation;

namespace RequestsProxy.JobsManager.Tests.Support;

/// <summary>A revocation list in memory, for the core's tests.</summary>
internal sealed class InMemoryRevocationStore : IRevocationStore
{
    private readonly Lock _lock = new();

    public RevocationList List { get; private set; } = RevocationList.Empty;

    public bool Fail { get; set; }

    public string Location => "memory";

    public Task<RevocationSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new RevocationSnapshot(List, List.Serialize().LongLength));
        }
    }

    public Task<RevocationSnapshot> UpdateAsync(Func<RevocationList, RevocationList> change, CancellationToken cancellationToken)
    {
        if (Fail)
        {
            throw new IOException("store unavailable (test)");
        }

        lock (_lock)
        {
            List = change(List);
            return Task.FromResult(new RevocationSnapshot(List, List.Serialize().LongLength));
        }
    }
}
