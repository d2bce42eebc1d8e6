namespace RequestsProxy.Demo;

/// <summary>What the demo measured, and whether the promise held.</summary>
internal sealed class DemoResult
{
    public required string Folder { get; init; }

    public required bool Legacy { get; init; }

    public required TimeSpan RevocationDeadline { get; init; }

    public DemoTally? Tally { get; set; }

    public long UpstreamReceived { get; set; }

    public long UpstreamWithoutIdentity { get; set; }

    /// <summary>Retries of results that had arrived, suppressed by subject + Idempotency-Key.</summary>
    public long UpstreamDuplicates { get; set; }

    /// <summary>Keyless requests the upstream received: the copied-token probes it accepted.</summary>
    public long UpstreamWithoutKey { get; set; }

    public ResultsCheck? Results { get; set; }

    /// <summary>Each accepted result counted once by the upstream, nothing counted that was not sent.</summary>
    public bool ResultsCountedOnce => Results is { CountedOnce: true } && UpstreamWithoutKey == ProbeAcceptedAfterStop;

    public TimeSpan ProxyRestartTime { get; set; }

    public string? RotatedTo { get; set; }

    public TimeSpan? RemintedWithin { get; set; }

    public int ProbeRequests { get; set; }

    public int ProbeRefused { get; set; }

    public int ProbeAcceptedAfterStop { get; set; }

    public string? RevocationReason { get; set; }

    public TimeSpan? RevocationBite { get; set; }

    public TimeSpan Elapsed { get; set; }

    public bool RevocationInTime => RevocationBite is { } bite && bite <= RevocationDeadline;

    /// <summary>No request with a valid token refused, the stopped job's token refused in time, results
    /// flowed, and the upstream counted each once.</summary>
    public bool PromiseHeld =>
        Tally is { RefusedWithValidToken: 0, Accepted: > 0 } && RevocationInTime && UpstreamWithoutIdentity == 0 && ResultsCountedOnce;
}
