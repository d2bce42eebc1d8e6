namespace RequestsProxy.Cli;

/// <summary>An error the user can act on: printed as one line to stderr, with its exit code.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Usage) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
