namespace RequestsProxy.Demo;

/// <summary>The demo cannot go on: printed as one line to stderr, with its exit code.</summary>
internal sealed class DemoException(string message, int exitCode = DemoExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
