using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace RequestsProxy.Tokens.Admin;

/// <summary>
/// Signed admin requests from a legacy jobs-manager to a legacy proxy replica (docs/proxy.md,
/// "Signed admin requests"): the admin token is the HMAC-SHA256 key and never travels. The MAC
/// covers the method, the request target, the address the request is sent to, the body's SHA-256,
/// a timestamp and a random nonce, so a request a pod on a recycled address captured cannot be
/// replayed at another replica, changed, or replayed later than <see cref="Window"/>.
/// </summary>
public static class AdminSignature
{
    /// <summary>The first line of the canonical string: the version of this scheme.</summary>
    public const string Scheme = "RP-ADMIN-HMAC-SHA256";

    /// <summary>Unix seconds (decimal digits) when the request was signed.</summary>
    public const string TimestampHeader = "X-Requests-Proxy-Admin-Timestamp";

    /// <summary><see cref="NonceBytes"/> random bytes, unpadded base64url: refused a second time within the window.</summary>
    public const string NonceHeader = "X-Requests-Proxy-Admin-Nonce";

    /// <summary>The <c>host:port</c> the request was sent to (an IP literal for a pod address).</summary>
    public const string TargetHeader = "X-Requests-Proxy-Admin-Target";

    /// <summary>Unpadded base64url of the HMAC-SHA256 (43 characters).</summary>
    public const string SignatureHeader = "X-Requests-Proxy-Admin-Signature";

    /// <summary>
    /// Unpadded base64url of the body's SHA-256 (43 characters), the canonical string's fifth line
    /// sent as a header: the verifier checks the MAC before it reads a body (finding B1: checks that
    /// need no key let anyone hold the body slots), then that the body has this digest.
    /// </summary>
    public const string ContentSha256Header = "X-Requests-Proxy-Admin-Content-SHA256";

    /// <summary>How far a timestamp may be from the verifier's clock either way (the clocks of one cluster).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    public const int NonceBytes = 16;

    /// <summary>Base64url length of <see cref="NonceBytes"/>; longer nonces (up to <see cref="MaxNonceLength"/>) are accepted too.</summary>
    public const int MinNonceLength = 22;

    public const int MaxNonceLength = 64;

    public const int SignatureLength = 43;

    public const int MaxTargetLength = 300;

    /// <summary>
    /// The string the MAC is computed over: seven lines joined by <c>\n</c> (no trailing newline) —
    /// <see cref="Scheme"/>, the method in upper case, the request target as sent (path and query,
    /// percent-encoded as on the wire), the target address, the base64url SHA-256 of the body (of
    /// nothing when there is none), the timestamp, the nonce.
    /// </summary>
    public static string Canonical(string method, string pathAndQuery, string target, string bodySha256, long timestamp, string nonce) =>
        string.Join('\n', Scheme, method.ToUpperInvariant(), pathAndQuery, target, bodySha256, timestamp.ToString(CultureInfo.InvariantCulture), nonce);

    /// <summary>Unpadded base64url of the body's SHA-256.</summary>
    public static string BodySha256(ReadOnlySpan<byte> body) => Base64Url.EncodeToString(SHA256.HashData(body));

    /// <summary>The target of a request sent to <paramref name="url"/>: its host (an IPv6 literal in brackets) and port.</summary>
    public static string TargetOf(Uri url) => $"{url.Host}:{url.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The target of a connection accepted on this address and port (an IPv4-mapped address as IPv4).</summary>
    public static string TargetOf(IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{new IPAddress(address.GetAddressBytes())}]" : address.ToString();
        return $"{host}:{port.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>A fresh nonce: <see cref="NonceBytes"/> random bytes, base64url.</summary>
    public static string NewNonce() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(NonceBytes));

    /// <summary>Signs one request for <paramref name="url"/> with the admin token as key.</summary>
    public static AdminSignatureHeaders Sign(string adminToken, string method, Uri url, ReadOnlySpan<byte> body, DateTimeOffset now) =>
        Sign(adminToken, method, url.PathAndQuery, TargetOf(url), body, now.ToUnixTimeSeconds(), NewNonce());

    public static AdminSignatureHeaders Sign(string adminToken, string method, string pathAndQuery, string target, ReadOnlySpan<byte> body, long timestamp, string nonce)
    {
        var digest = BodySha256(body);
        var canonical = Canonical(method, pathAndQuery, target, digest, timestamp, nonce);
        return new AdminSignatureHeaders(timestamp.ToString(CultureInfo.InvariantCulture), nonce, target, Base64Url.EncodeToString(Mac(adminToken, canonical)), digest);
    }

    internal static byte[] Mac(string adminToken, string canonical) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(adminToken), Encoding.UTF8.GetBytes(canonical));
}
