using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Admin;

/// <summary>
/// Checks signed admin requests (<see cref="AdminSignature"/>) at a legacy proxy replica, in this
/// order: every header present and of its form, the timestamp within <see cref="AdminSignature.Window"/>
/// of this clock, the signed target one of this replica's own addresses, the MAC (constant-time) over
/// the body digest the request declares — all before a body is read (<see cref="VerifyHeaders"/>) —
/// then that the body has that digest, and last the nonce, remembered for the window (at most
/// <see cref="MaxRemembered"/>): a request whose MAC fails is never remembered, so only the key's
/// holder can fill the memory, or make a replica read a body.
/// </summary>
public sealed class AdminSignatureVerifier(TimeProvider time, int maxRemembered = AdminSignatureVerifier.DefaultMaxRemembered)
{
    /// <summary>
    /// 10 000 nonces (about 1.5 MB): a jobs-manager sends one sync every 2 s plus one request per start
    /// or stop, far below 10 000 in the two minutes a nonce can stay remembered.
    /// </summary>
    public const int DefaultMaxRemembered = 10_000;

    private const int Sha256Bytes = 32;

    private readonly AdminNonceCache _nonces = new(maxRemembered);

    public int MaxRemembered => _nonces.Capacity;

    /// <summary>Nonces remembered now (metrics, tests).</summary>
    public int Remembered => _nonces.Count;

    /// <summary>The whole check of a request whose body has been read (<see cref="AdminSignedRequest.Body"/>).</summary>
    /// <param name="adminToken">The key: the admin token as this replica reads it.</param>
    /// <param name="ownTargets">The <c>host:port</c> values that name this replica for this request (its address on the connection).</param>
    public AdminSignatureFailure Verify(string adminToken, AdminSignedRequest request, IReadOnlyCollection<string> ownTargets)
    {
        var failure = VerifyHeaders(adminToken, request, ownTargets, out var timestamp);
        if (failure != AdminSignatureFailure.None)
        {
            return failure;
        }

        // The MAC vouches for the declared digest; the body must be the one it declares.
        if (!string.Equals(AdminSignature.BodySha256(request.Body.Span), request.ContentSha256, StringComparison.Ordinal))
        {
            return AdminSignatureFailure.BodyMismatch;
        }

        // Remembered until the timestamp leaves the window: a later replay is stale anyway.
        return _nonces.TryRemember(request.Nonce!, timestamp + (long)AdminSignature.Window.TotalSeconds, time.GetUtcNow().ToUnixTimeSeconds());
    }

    /// <summary>
    /// Everything but the body: the headers' form, the time, the target and the MAC over the declared
    /// body digest. Only the key's holder passes it, so a caller may read a body only after it (finding
    /// B1: with the form, time and target alone, 20 connections of anyone held every body slot).
    /// Remembers nothing.
    /// </summary>
    public AdminSignatureFailure VerifyHeaders(string adminToken, AdminSignedRequest request, IReadOnlyCollection<string> ownTargets) =>
        VerifyHeaders(adminToken, request, ownTargets, out _);

    private AdminSignatureFailure VerifyHeaders(string adminToken, AdminSignedRequest request, IReadOnlyCollection<string> ownTargets, out long timestamp)
    {
        var failure = CheckForm(request, ownTargets, out timestamp, out var signature);
        if (failure != AdminSignatureFailure.None)
        {
            return failure;
        }

        var canonical = AdminSignature.Canonical(request.Method, request.PathAndQuery, request.Target!, request.ContentSha256!, timestamp, request.Nonce!);
        return CryptographicOperations.FixedTimeEquals(AdminSignature.Mac(adminToken, canonical), signature)
            ? AdminSignatureFailure.None
            : AdminSignatureFailure.BadSignature;
    }

    private AdminSignatureFailure CheckForm(AdminSignedRequest request, IReadOnlyCollection<string> ownTargets, out long timestamp, out byte[] signature)
    {
        timestamp = 0;
        signature = new byte[Sha256Bytes];
        if (request.Timestamp is not { } timestampText || request.Nonce is not { } nonce
            || request.Target is not { } target || request.Signature is not { } signatureText || request.ContentSha256 is not { } digest)
        {
            return AdminSignatureFailure.Missing;
        }

        if (!IsTimestamp(timestampText, out timestamp)
            || nonce.Length is < AdminSignature.MinNonceLength or > AdminSignature.MaxNonceLength || !IsBase64Url(nonce)
            || !IsTargetForm(target)
            || !IsSha256(signatureText, signature)
            || !IsSha256(digest, new byte[Sha256Bytes]))
        {
            return AdminSignatureFailure.Malformed;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var window = (long)AdminSignature.Window.TotalSeconds;
        if (Math.Abs(now - timestamp) > window)
        {
            return AdminSignatureFailure.StaleTimestamp;
        }

        return ownTargets.Contains(target, StringComparer.OrdinalIgnoreCase) ? AdminSignatureFailure.None : AdminSignatureFailure.WrongTarget;
    }

    /// <summary>A target of its form (printable ASCII, at most <see cref="AdminSignature.MaxTargetLength"/>): only such a one is worth quoting in a log.</summary>
    public static bool IsTargetForm(string target) =>
        target.Length is > 0 and <= AdminSignature.MaxTargetLength && !target.Any(c => c is <= ' ' or > '~');

    private static bool IsTimestamp(string text, out long value)
    {
        value = 0;
        return text.Length is > 0 and <= 12 && text.All(char.IsAsciiDigit)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// 43 base64url characters that decode to 32 bytes: the last one carries 2 spare bits, which must
    /// be zero (the canonical encoding) — Decode threw on any other (finding B4: a 500 for anyone).
    /// </summary>
    private static bool IsSha256(string text, byte[] into) =>
        text.Length == AdminSignature.SignatureLength && IsBase64Url(text)
        && SextetOf(text[^1]) % 4 == 0
        && Base64Url.TryDecodeFromChars(text, into, out var written) && written == Sha256Bytes;

    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        _ => 63,
    };

    private static bool IsBase64Url(string text) =>
        text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
