namespace RequestsProxy.Demo;

/// <summary>What the demo measured, and whether the promise held.</summary>
internal sealed class DemoResult
{
    public required string Folder { get; init; }

    public required bool Legacy { get; init; }

    /// <summary><c>--cutover</c>: jobs started under legacy tokens, both services flipped to stateless while they ran.</summary>
    public bool Cutover { get; init; }

    /// <summary>From the first stateless replica starting to the last legacy one gone (both services flipped).</summary>
    public TimeSpan? FlipDuration { get; set; }

    /// <summary>From the stateless jobs-manager being ready to every live job holding a signed token; null: never.</summary>
    public TimeSpan? ConvertedWithin { get; set; }

    /// <summary>A converted job's legacy token, copied before the flip, was refused by every replica after its grace.</summary>
    public bool LegacyTokenRefused { get; set; }

    public string? LegacyTokenReason { get; set; }

    /// <summary>Probes with that old token a replica still accepted after the grace (keyless requests at the upstream).</summary>
    public int LegacyProbeAccepted { get; set; }

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
    public bool ResultsCountedOnce => Results is { CountedOnce: true } && UpstreamWithoutKey == ProbeAcceptedAfterStop + LegacyProbeAccepted;

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
    /// flowed, and the upstream counted each once; a cutover also converted every job and ended its old token.</summary>
    public bool PromiseHeld =>
        Tally is { RefusedWithValidToken: 0, Accepted: > 0 } && RevocationInTime && UpstreamWithoutIdentity == 0 && ResultsCountedOnce
        && (!Cutover || (ConvertedWithin is not null && LegacyTokenRefused));
}
