namespace RequestsProxy.Demo;

/// <summary>How the demo runs. Poll periods are short so a laptop run shows rotation and revocation within a minute.</summary>
internal sealed record DemoOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(40);

    public int Jobs { get; init; } = 3;

    public bool Keep { get; init; }

    public bool Legacy { get; init; }

    public TimeSpan KeysPoll { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RevokedPoll { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>What the revocation may take beyond one poll period (file write, process scheduling).</summary>
    public TimeSpan RevocationMargin { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RevocationDeadline => RevokedPoll + RevocationMargin;

    /// <summary>A short lifetime so the jobs-manager also refreshes tokens while the demo runs.</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(10);
}
