namespace RequestsProxy.Server.Hosting;

/// <summary>The settings cannot run a proxy; the message lists every problem found.</summary>
internal sealed class ProxyConfigurationException(IReadOnlyList<string> errors)
    : Exception("invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
