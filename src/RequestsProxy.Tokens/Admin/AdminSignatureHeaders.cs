namespace RequestsProxy.Tokens.Admin;

/// <summary>The values of the five headers of a signed admin request (<see cref="AdminSignature"/>).</summary>
public sealed record AdminSignatureHeaders(string Timestamp, string Nonce, string Target, string Signature, string ContentSha256)
{
    /// <summary>Each header's name and value, in a stable order.</summary>
    public IEnumerable<KeyValuePair<string, string>> All =>
    [
        new(AdminSignature.TimestampHeader, Timestamp),
        new(AdminSignature.NonceHeader, Nonce),
        new(AdminSignature.TargetHeader, Target),
        new(AdminSignature.SignatureHeader, Signature),
        new(AdminSignature.ContentSha256Header, ContentSha256),
    ];
}
