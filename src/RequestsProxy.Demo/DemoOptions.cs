namespace RequestsProxy.Demo;

/// <summary>How the demo runs. Poll periods are short so a laptop run shows rotation and revocation within a minute.</summary>
internal sealed record DemoOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(40);

    public int Jobs { get; init; } = 3;

    public bool Keep { get; init; }

    public bool Legacy { get; init; }

    /// <summary>Jobs under legacy tokens, then both services flipped to stateless while they run (DESIGN §12).</summary>
    public bool Cutover { get; init; }

    /// <summary>How long a converted job's legacy token keeps working (the chart's legacyTokens.graceSeconds, 300, shortened).</summary>
    public TimeSpan LegacyTokenGrace { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan LegacyTokensPoll { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan KeysPoll { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RevokedPoll { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>What the revocation may take beyond one poll period (file write, process scheduling).</summary>
    public TimeSpan RevocationMargin { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RevocationDeadline => RevokedPoll + RevocationMargin;

    /// <summary>A short lifetime so the jobs-manager also refreshes tokens while the demo runs.</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromMinutes(10);
}
