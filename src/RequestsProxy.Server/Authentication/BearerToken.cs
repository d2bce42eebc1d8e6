namespace RequestsProxy.Server.Authentication;

/// <summary>Reads the bearer token of a request (RFC 6750 §2.1: the Authorization header only).</summary>
internal static class BearerToken
{
    /// <summary>
    /// False when no bearer credentials were sent at all (no header, or another scheme). True with
    /// the token otherwise; an empty or repeated header yields "" which the validator calls malformed.
    /// </summary>
    public static bool TryRead(HttpRequest request, out ReadOnlySpan<char> token)
    {
        var values = request.Headers.Authorization;
        token = default;
        if (values.Count == 0)
        {
            return false;
        }

        if (values.Count > 1)
        {
            return true;
        }

        return TryRead(values[0], out token);
    }

    /// <summary>The same, from one <c>Authorization</c> header value.</summary>
    public static bool TryRead(string? value, out ReadOnlySpan<char> token)
    {
        token = default;
        var header = value.AsSpan().Trim();
        // The scheme is case-insensitive (RFC 7235 §2.1).
        if (header.Length < 6 || !header[..6].Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (header.Length == 6)
        {
            return true;
        }

        if (header[6] != ' ')
        {
            return false;
        }

        // A slice of the header value, not a copy: the validator's cache is looked up by span.
        token = header[7..].Trim(' ');
        return true;
    }
}
