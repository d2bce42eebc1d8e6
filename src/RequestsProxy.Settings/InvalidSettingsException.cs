namespace RequestsProxy.Settings;

/// <summary>The settings cannot run the service; the message lists every problem found, one a line.</summary>
public sealed class InvalidSettingsException(IReadOnlyList<string> errors)
    : Exception("invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = [.. errors];
}
