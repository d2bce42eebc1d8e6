namespace RequestsProxy.Tokens.Admin;

/// <summary>
/// What the verifier sees of one request: the method, the request target as received, the body's
/// bytes (empty until read) and the five header values (null when absent).
/// </summary>
public sealed record AdminSignedRequest(
    string Method, string PathAndQuery, ReadOnlyMemory<byte> Body, string? Timestamp, string? Nonce, string? Target, string? Signature, string? ContentSha256)
{
    /// <summary>At least one of the headers is present: the request means to be signed (a bearer token then counts for nothing).</summary>
    public bool ClaimsSignature => Timestamp is not null || Nonce is not null || Target is not null || Signature is not null || ContentSha256 is not null;
}
