namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The jobs-manager's memory of one job. Changed only while holding <see cref="Gate"/>, so a
/// refresh can never mint a token after a stop has taken the list of jtis to revoke; the
/// history has its own small lock so readers (key usage) can look without waiting on a gate.
/// </summary>
internal sealed class JobRecord(JobSpec spec, DateTimeOffset createdAt)
{
    private readonly Lock _historyLock = new();
    private readonly List<IssuedToken> _history = [];
    private volatile IssuedToken? _current;
    private volatile JobState _state = JobState.Pending;

    public JobSpec Spec { get; } = spec;

    public string Name => Spec.Name;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public JobState State
    {
        get => _state;
        set => _state = value;
    }

    /// <summary>Once set, no more refreshes: the job only goes away (or back to running if the revocation failed).</summary>
    public volatile bool Stopping;

    /// <summary>Stopped and forgotten; a stop waiting on the gate finds nothing left to do.</summary>
    public volatile bool Removed;

    /// <summary>The token the job holds now: the last one delivered.</summary>
    public IssuedToken? Current => _current;

    public int TokensIssued { get; private set; }

    public string? TokenFile { get; set; }

    /// <summary>Every token issued to the job that may not have expired yet (the ones a stop must revoke).</summary>
    public IReadOnlyList<IssuedToken> History
    {
        get
        {
            lock (_historyLock)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>Recorded before delivery: a token that might have reached the job must be revocable.</summary>
    public void Record(IssuedToken token)
    {
        lock (_historyLock)
        {
            _history.Add(token);
            TokensIssued++;
        }
    }

    public void MarkDelivered(IssuedToken token) => _current = token;

    /// <summary>Expired tokens no longer need revoking: forget them so the history stays small.</summary>
    public void ForgetExpired(DateTimeOffset now, TimeSpan leeway)
    {
        lock (_historyLock)
        {
            _history.RemoveAll(t => !t.IsUnexpired(now, leeway));
        }
    }

    public (IReadOnlyList<IssuedToken> History, IssuedToken? Current) Snapshot()
    {
        lock (_historyLock)
        {
            return ([.. _history], _current);
        }
    }

    public JobView ToView() => new(Name, Stopping ? JobState.Stopping : State, Spec.Image, Spec.Command, Spec.Scope, CreatedAt, Current, TokensIssued, TokenFile);
}
