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

    /// <summary>The job finished and its tokens are in the revocation list: no refresh, and a stop only deletes.</summary>
    public volatile bool TokensRevoked;

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

    /// <summary>Takes back a token that was never delivered (it could not be recorded in the ledger).</summary>
    public void Unrecord(IssuedToken token)
    {
        lock (_historyLock)
        {
            if (_history.Remove(token))
            {
                TokensIssued--;
            }
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

    public JobView ToView() => new(Name, Stopping ? JobState.Stopping : State, Spec.Image, Spec.Command, Spec.Scope, CreatedAt, Current, TokensIssued, TokenFile, TokensRevoked);

    /// <summary>What the ledger keeps of this job: its spec without env, and every unexpired token it has held.</summary>
    public JobLedgerEntry ToLedgerEntry()
    {
        lock (_historyLock)
        {
            return new JobLedgerEntry(Name, CreatedAt, Spec.Image, Spec.Command, Spec.Args, Spec.Scope, TokensIssued, _current?.Jti, TokensRevoked,
                [.. _history.Select(t => JobLedgerToken.From(Name, t))]);
        }
    }

    /// <summary>
    /// Rebuilds a job from its ledger entry after a restart. The current token is the one the ledger
    /// names (recorded only once delivered); without it, the newest — a refresh then follows soon.
    /// </summary>
    public static JobRecord Restore(JobLedgerEntry entry, JobState state, string tokenFile)
    {
        var spec = new JobSpec(entry.Name, entry.Image, entry.Command, entry.Args, entry.Scope, new Dictionary<string, string>(StringComparer.Ordinal));
        var job = new JobRecord(spec, entry.CreatedAt) { State = state, TokenFile = tokenFile, TokensRevoked = entry.TokensRevoked };
        var history = entry.Tokens.Select(t => t.ToIssuedToken()).ToList();
        lock (job._historyLock)
        {
            job._history.AddRange(history);
            job.TokensIssued = Math.Max(entry.TokensIssued, history.Count);
        }

        job._current = history.FirstOrDefault(t => t.Jti == entry.CurrentJti) ?? history.MaxBy(t => t.IssuedAt);
        return job;
    }
}
