namespace RequestsProxy.Demo;

/// <summary>The demo's exit codes, those of <c>rpctl demo</c> (DESIGN §10).</summary>
internal static class DemoExitCodes
{
    /// <summary>The promise held: no valid token refused, the stopped job's token refused in time.</summary>
    public const int Held = 0;

    /// <summary>The promise did not hold, or the system under demonstration did not come up.</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments.</summary>
    public const int Usage = 2;
}
