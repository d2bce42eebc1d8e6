namespace RequestsProxy.Testing.Tools;

/// <summary>Exit code and captured output of a finished tool.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}
