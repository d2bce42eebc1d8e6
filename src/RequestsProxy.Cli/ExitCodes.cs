namespace RequestsProxy.Cli;

/// <summary>The CLI's exit codes (DESIGN §10).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The token is invalid, or the operation was refused (e.g. retiring the active key).</summary>
    public const int Refused = 1;

    /// <summary>Bad arguments, or an input (key folder, revocation file) that cannot be used.</summary>
    public const int Usage = 2;
}
