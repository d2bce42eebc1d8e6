using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Admin;

/// <summary>
/// Checks signed admin requests (<see cref="AdminSignature"/>) at a legacy proxy replica, in this
/// order: every header present and of its form, the timestamp within <see cref="AdminSignature.Window"/>
/// of this clock, the signed target one of this replica's own addresses, the MAC (constant-time),
/// and last the nonce, remembered for the window (at most <see cref="MaxRemembered"/>): a request
/// whose MAC fails is never remembered, so only the key's holder can fill the memory.
/// </summary>
public sealed class AdminSignatureVerifier(TimeProvider time, int maxRemembered = AdminSignatureVerifier.DefaultMaxRemembered)
{
    /// <summary>
    /// 10 000 nonces (about 1.5 MB): a jobs-manager sends one sync every 2 s plus one request per start
    /// or stop, far below 10 000 in the two minutes a nonce can stay remembered.
    /// </summary>
    public const int DefaultMaxRemembered = 10_000;

    private readonly AdminNonceCache _nonces = new(maxRemembered);

    public int MaxRemembered => _nonces.Capacity;

    /// <summary>Nonces remembered now (metrics, tests).</summary>
    public int Remembered => _nonces.Count;

    /// <param name="adminToken">The key: the admin token as this replica reads it.</param>
    /// <param name="ownTargets">The <c>host:port</c> values that name this replica for this request (its address on the connection).</param>
    public AdminSignatureFailure Verify(string adminToken, AdminSignedRequest request, IReadOnlyCollection<string> ownTargets)
    {
        var failure = CheckHeaders(request, ownTargets, out var timestamp, out var signature);
        if (failure != AdminSignatureFailure.None)
        {
            return failure;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var canonical = AdminSignature.Canonical(request.Method, request.PathAndQuery, request.Target!, AdminSignature.BodySha256(request.Body.Span), timestamp, request.Nonce!);
        if (!CryptographicOperations.FixedTimeEquals(AdminSignature.Mac(adminToken, canonical), signature))
        {
            return AdminSignatureFailure.BadSignature;
        }

        // Remembered until the timestamp leaves the window: a later replay is stale anyway.
        return _nonces.TryRemember(request.Nonce!, timestamp + (long)AdminSignature.Window.TotalSeconds, now);
    }

    /// <summary>
    /// Every check that needs no body (headers, their form, the time, the target), so a caller can
    /// refuse before reading one (finding A13: bodies of 4 MiB were read before anything was checked).
    /// </summary>
    public AdminSignatureFailure CheckHeaders(AdminSignedRequest request, IReadOnlyCollection<string> ownTargets) =>
        CheckHeaders(request, ownTargets, out _, out _);

    private AdminSignatureFailure CheckHeaders(AdminSignedRequest request, IReadOnlyCollection<string> ownTargets, out long timestamp, out byte[] signature)
    {
        timestamp = 0;
        signature = [];
        if (request.Timestamp is not { } timestampText || request.Nonce is not { } nonce
            || request.Target is not { } target || request.Signature is not { } signatureText)
        {
            return AdminSignatureFailure.Missing;
        }

        signature = new byte[32];
        if (!IsTimestamp(timestampText, out timestamp)
            || nonce.Length is < AdminSignature.MinNonceLength or > AdminSignature.MaxNonceLength || !IsBase64Url(nonce)
            || target.Length is 0 or > AdminSignature.MaxTargetLength || target.Any(c => c is <= ' ' or > '~')
            || signatureText.Length != AdminSignature.SignatureLength || !IsBase64Url(signatureText)
            || Base64Url.DecodeFromChars(signatureText, signature) != signature.Length)
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

    private static bool IsTimestamp(string text, out long value)
    {
        value = 0;
        return text.Length is > 0 and <= 12 && text.All(char.IsAsciiDigit)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsBase64Url(string text) =>
        text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
