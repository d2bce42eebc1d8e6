namespace RequestsProxy.Tokens.Admin;

/// <summary>Why a signed admin request was refused (<see cref="AdminSignatureVerifier"/>); the reason strings are <see cref="AdminSignatureReasons"/>.</summary>
public enum AdminSignatureFailure
{
    None,

    /// <summary>No signature headers (or only some of them; a signer older than the content digest sends four of five).</summary>
    Missing,

    /// <summary>A header that is not of its form (digits, base64url of the right length, printable target).</summary>
    Malformed,

    /// <summary>The timestamp is more than <see cref="AdminSignature.Window"/> from the verifier's clock.</summary>
    StaleTimestamp,

    /// <summary>Signed for another address than the one the request arrived at.</summary>
    WrongTarget,

    /// <summary>The MAC does not match: another key, or any covered field (method, path, target, body, timestamp, nonce) changed.</summary>
    BadSignature,

    /// <summary>The body read is not the one signed (its SHA-256 is not the signed <see cref="AdminSignature.ContentSha256Header"/>).</summary>
    BodyMismatch,

    /// <summary>The nonce was already accepted within the window.</summary>
    Replayed,

    /// <summary>The nonces of the window fill the verifier's bound: refused rather than forgetting one (which would allow a replay).</summary>
    ReplayCacheFull,
}
