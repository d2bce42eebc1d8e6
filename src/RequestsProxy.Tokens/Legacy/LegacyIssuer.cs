namespace RequestsProxy.Tokens.Legacy;

/// <summary>
/// Who may still add entries to the legacy token list: the <c>issuing</c> key next to
/// <c>legacy-tokens.json</c> in the same ConfigMap (so the kubelet projects both from one version),
/// written by the jobs-manager at start-up (docs/operations.md, "The two-phase flip"). A legacy
/// jobs-manager writes <see cref="Opaque"/> before it issues any opaque token; a stateless one writes
/// <see cref="Closed"/>. The jobs-manager Deployment is <c>Recreate</c>, so a <c>closed</c> comes after
/// the last entry the legacy one ever wrote: a copy of the ConfigMap that says <c>closed</c> holds every
/// opaque token ever issued, and a stateless proxy is not ready before its copy says so.
/// </summary>
public sealed class LegacyIssuer
{
    /// <summary>The ConfigMap key and the file name in the proxy's legacy token folder.</summary>
    public const string FileName = "issuing";

    /// <summary>A legacy jobs-manager may add an opaque token at any moment.</summary>
    public static readonly LegacyIssuer Opaque = new("opaque");

    /// <summary>A stateless jobs-manager runs: nobody adds entries (they only end and go).</summary>
    public static readonly LegacyIssuer Closed = new("closed");

    /// <summary>No marker: a list written by a jobs-manager older than the marker, which may be a legacy one (treated as <see cref="Opaque"/>).</summary>
    public static readonly LegacyIssuer Unknown = new("");

    private LegacyIssuer(string value) => Value = value;

    /// <summary><c>opaque</c>, <c>closed</c>, or empty (no marker).</summary>
    public string Value { get; }

    public bool IsClosed => ReferenceEquals(this, Closed);

    /// <summary>The marker a jobs-manager of that mode writes at start-up.</summary>
    public static LegacyIssuer Of(bool stateless) => stateless ? Closed : Opaque;

    /// <summary>The marker of a file's (or key's) trimmed text; false for anything but <c>opaque</c>, <c>closed</c> or nothing.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out LegacyIssuer issuer)
    {
        var trimmed = text.Trim();
        issuer = trimmed.IsEmpty ? Unknown
            : trimmed.SequenceEqual(Opaque.Value) ? Opaque
            : trimmed.SequenceEqual(Closed.Value) ? Closed
            : null!;
        return issuer is not null;
    }

    public override string ToString() => Value.Length == 0 ? "(no marker)" : Value;
}
