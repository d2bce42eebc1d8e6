namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// The jobs-manager's memory of one job. Everything here is read-only from outside: a change is
/// a transition method of <see cref="Lease"/>, and a lease exists only while its holder owns the
/// job's gate (taken through <see cref="JobTable"/>), so a refresh can never mint a token after a
/// stop has taken the list of jtis to revoke, and the runtime's state reports never race a stop.
/// The history has its own small lock so readers (key usage, the API) look without waiting on the gate.
/// </summary>
internal sealed class JobRecord
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _historyLock = new();
    private readonly List<IssuedToken> _history = [];
    private volatile IssuedToken? _current;
    private volatile JobState _state = JobState.Pending;
    private volatile bool _stopping;
    private volatile bool _removed;
    private volatile bool _tokensRevoked;
    private volatile bool _deliveryUnconfirmed;
    private volatile string? _tokenFile;
    private volatile string? _uid;
    private int _tokensIssued;

    public JobRecord(JobSpec spec, DateTimeOffset createdAt)
    {
        Spec = spec;
        CreatedAt = createdAt;
    }

    public JobSpec Spec { get; }

    public string Name => Spec.Name;

    public DateTimeOffset CreatedAt { get; }

    /// <summary>What the runtime last reported (or what the launch answered).</summary>
    public JobState State => _state;

    /// <summary>Once set, no more refreshes: the job only goes away (or back to running if the revocation failed).</summary>
    public bool Stopping => _stopping;

    /// <summary>Stopped and forgotten; a stop waiting on the gate finds nothing left to do.</summary>
    public bool Removed => _removed;

    /// <summary>Its tokens are in the revocation list: no refresh, and a stop only deletes.</summary>
    public bool TokensRevoked => _tokensRevoked;

    /// <summary>The token the job holds now: the last one delivered.</summary>
    public IssuedToken? Current => _current;

    public int TokensIssued
    {
        get
        {
            lock (_historyLock)
            {
                return _tokensIssued;
            }
        }
    }

    public string? TokenFile => _tokenFile;

    /// <summary>
    /// The uid of the very Job this job is (Kubernetes): the one the jobs-manager created (from its launch, or
    /// recorded in the ledger), or the adopted one. Null before the launch, on the Local runtime, and for an
    /// entry from before uids were recorded until its first match by name.
    /// </summary>
    public string? Uid => Spec.Adopted?.Uid ?? _uid;

    /// <summary>This job as the runtime is asked about it: name, namespace, uid.</summary>
    public JobRef Ref => new(Name, Spec.Namespace, Uid);

    /// <summary>
    /// Restored from a ledger entry whose namespace is not a job namespace (an upgrade from the
    /// release-namespace layout, a namespace dropped from the configuration): kept, read, refreshed and
    /// deleted where it is while the jobs-manager may, never taken for gone because it is not listed.
    /// </summary>
    public bool OutOfScope { get; private init; }

    /// <summary>
    /// Restored from a ledger that never recorded which token the job holds: the process stopped
    /// between the ledger write and the delivery (or its confirmation), so the job may hold none.
    /// The refresh delivers a new one at once.
    /// </summary>
    public bool DeliveryUnconfirmed => _deliveryUnconfirmed;

    /// <summary>Finished (succeeded or failed) while its tokens still verify: the next pass revokes them.</summary>
    public bool IsFinishedWithLiveTokens => this is { Stopping: false, Removed: false, TokensRevoked: false, State: JobState.Succeeded or JobState.Failed };

    /// <summary>A job whose token is kept fresh: not stopping, not finished, not gone, tokens not revoked.</summary>
    public bool IsRefreshable =>
        !Stopping && !Removed && !TokensRevoked && State is not (JobState.Succeeded or JobState.Failed or JobState.Missing or JobState.Stopping or JobState.Unreachable or JobState.Refused);

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

    public (IReadOnlyList<IssuedToken> History, IssuedToken? Current) Snapshot()
    {
        lock (_historyLock)
        {
            return ([.. _history], _current);
        }
    }

    public JobView ToView() =>
        new(Name, Stopping ? JobState.Stopping : State, Spec.Image, Spec.Command, Spec.Scope, CreatedAt, Current, TokensIssued, TokenFile, TokensRevoked, Spec.Namespace,
            Spec.Adopted is not null, OutOfScope ? OutOfScopeProblem() : null);

    /// <summary>What an operator must know of a job outside the job namespaces (docs/operations.md, upgrading to job namespaces).</summary>
    private string OutOfScopeProblem()
    {
        var where = $"namespace '{Spec.Namespace}' is not one of the jobs-manager's job namespaces";
        if (TokensRevoked || Stopping)
        {
            return $"{where}; its tokens are revoked";
        }

        return State == JobState.Unreachable
            ? $"{where} and it may not read Jobs there: the job's state is unknown, its token is kept but not refreshed " +
              $"(the current one expires at {Current?.ExpiresAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "never (legacy)"}); " +
              $"DELETE /v1/jobs/{Name} revokes its tokens (then delete the Job: kubectl -n {Spec.Namespace} delete job {Name}), or grant the rights back (docs/operations.md#upgrade)"
            : $"{where}: it is still read, refreshed and stopped there while the jobs-manager may (no new job starts there)";
    }

    /// <summary>What the ledger keeps of this job: its spec without env, and every unexpired token it has held.</summary>
    public JobLedgerEntry ToLedgerEntry()
    {
        lock (_historyLock)
        {
            return new JobLedgerEntry(Name, CreatedAt, Spec.Image, Spec.Command, Spec.Args, Spec.Scope, _tokensIssued, _current?.Jti, _tokensRevoked,
                [.. _history.Select(t => JobLedgerToken.From(Name, t))], Spec.Namespace, Spec.Adopted, Spec.Adopted is null ? _uid : null);
        }
    }

    /// <summary>
    /// Rebuilds a job from its ledger entry after a restart. The current token is the one the ledger
    /// names (recorded only once delivered); without it, the newest — a refresh then follows soon.
    /// </summary>
    /// <param name="outOfScope">Its namespace is not a job namespace (see <see cref="OutOfScope"/>).</param>
    public static JobRecord Restore(JobLedgerEntry entry, JobState state, string tokenFile, bool outOfScope = false)
    {
        var spec = new JobSpec(entry.Name, entry.Image, entry.Command, entry.Args, entry.Scope, new Dictionary<string, string>(StringComparer.Ordinal),
            Namespace: entry.Namespace ?? entry.Adopted?.Namespace, Adopted: entry.Adopted);
        var job = new JobRecord(spec, entry.CreatedAt) { _state = state, _tokenFile = tokenFile, _tokensRevoked = entry.TokensRevoked, _uid = entry.Uid, OutOfScope = outOfScope };
        var history = entry.Tokens.Select(t => t.ToIssuedToken()).ToList();
        job._history.AddRange(history);
        job._tokensIssued = Math.Max(entry.TokensIssued, history.Count);
        var confirmed = history.FirstOrDefault(t => t.Jti == entry.CurrentJti);
        if (confirmed is { Kid: null } && history.Where(t => t.Kid is not null && t.IssuedAt >= confirmed.IssuedAt).MaxBy(t => t.IssuedAt) is { } newerJwt)
        {
            // The ledger names a legacy token, yet a JWT was recorded after it: that JWT may have been delivered
            // (only its confirmation was lost) and its delivery may have ended the legacy entry. Either way the job
            // is treated as a JWT holder whose delivery is unconfirmed: a new JWT reaches it at once, in either mode,
            // and its legacy entry is left open until one is confirmed (DESIGN §12).
            confirmed = null;
            job._current = newerJwt;
        }
        else
        {
            job._current = confirmed ?? history.MaxBy(t => t.IssuedAt);
        }

        job._deliveryUnconfirmed = confirmed is null && !entry.TokensRevoked;
        return job;
    }

    /// <summary>Waits for the job's gate. Only <see cref="JobTable"/> calls this: it is the one owner of the gates.</summary>
    internal async Task<Lease> AcquireAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(this);
    }

    /// <summary>The gate if it is free now, else null (for passes that skip a busy job rather than wait).</summary>
    internal Lease? TryAcquire() => _gate.Wait(0) ? new Lease(this) : null;

    /// <summary>
    /// The right to change one job: held from the gate's acquisition to <see cref="Dispose"/>. Each
    /// method is one transition of the job's life; nothing else can change a <see cref="JobRecord"/>.
    /// </summary>
    internal sealed class Lease : IDisposable
    {
        private JobRecord? _job;

        internal Lease(JobRecord job) => _job = job;

        public JobRecord Job => _job ?? throw new ObjectDisposedException(nameof(Lease), "the job's gate was already released");

        /// <summary>Recorded before delivery: a token that might have reached the job must be revocable.</summary>
        public void Record(IssuedToken token)
        {
            var job = Job;
            lock (job._historyLock)
            {
                job._history.Add(token);
                job._tokensIssued++;
            }
        }

        /// <summary>Takes back a token that was never delivered (it could not be recorded in the ledger).</summary>
        public void Unrecord(IssuedToken token)
        {
            var job = Job;
            lock (job._historyLock)
            {
                if (job._history.Remove(token))
                {
                    job._tokensIssued--;
                }
            }
        }

        public void MarkDelivered(IssuedToken token)
        {
            Job._current = token;
            Job._deliveryUnconfirmed = false;
        }

        /// <summary>Expired tokens no longer need revoking: forget them so the history stays small.</summary>
        public void ForgetExpired(DateTimeOffset now, TimeSpan leeway)
        {
            var job = Job;
            lock (job._historyLock)
            {
                job._history.RemoveAll(t => !t.IsUnexpired(now, leeway));
            }
        }

        /// <summary>
        /// Legacy tokens the job no longer holds: once a JWT was confirmed delivered <paramref name="after"/> ago
        /// (its legacy entries have ended and been dropped by then), nothing needs to end or forget them again.
        /// </summary>
        public void ForgetReplacedLegacyTokens(DateTimeOffset now, TimeSpan after)
        {
            var job = Job;
            if (job._deliveryUnconfirmed || job._current is not { Kid: not null } current || now < current.IssuedAt + after)
            {
                return;
            }

            lock (job._historyLock)
            {
                job._history.RemoveAll(t => t.Kid is null);
            }
        }

        /// <summary>The runtime accepted the job (and, on Kubernetes, said which Job it created).</summary>
        public void Launched(LaunchedJob launched)
        {
            Job._state = launched.State;
            Job._tokenFile = launched.TokenFile;
            Job._uid = launched.Uid ?? Job._uid;
        }

        /// <summary>
        /// An entry from before uids were recorded, matched by name for the first time: from now on only the Job
        /// of that uid is this job. Never replaces a uid already known (a Job of another uid is not this one).
        /// </summary>
        public bool Identify(string uid)
        {
            if (Job.Uid is not null)
            {
                return false;
            }

            Job._uid = uid;
            return true;
        }

        /// <summary>What the runtime reports now.</summary>
        public void Observe(JobState state) => Job._state = state;

        /// <summary>No more refreshes from here on.</summary>
        public void BeginStop() => Job._stopping = true;

        /// <summary>The revocation failed, so nothing changed for the job: it keeps running and refreshing.</summary>
        public void CancelStop() => Job._stopping = false;

        public void MarkTokensRevoked() => Job._tokensRevoked = true;

        /// <summary>Gone from the table; a stop that waited on the gate finds nothing left to do.</summary>
        internal void MarkRemoved() => Job._removed = true;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _job, null) is { } job)
            {
                job._gate.Release();
            }
        }
    }
}
