namespace RequestsProxy.Testing.Upstream;

/// <summary>One request as the test upstream received it.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body,
    DateTimeOffset ReceivedAt)
{
    /// <summary>The request target exactly as it arrived (path and query, percent-encoded as on the wire).</summary>
    public string RawTarget { get; init; } = "";

    /// <summary>The header's value (several values joined with ", "), or null when absent. Case-insensitive.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}
