namespace RequestsProxy.Cli.Keys;

/// <summary>The key ring's entries as stored (key text by kid, plus <c>active</c>) and when each kid was added, promoted and demoted.</summary>
internal sealed record KeyRingDocument(string Active, IReadOnlyDictionary<string, string> Keys, KeyHistory History);
