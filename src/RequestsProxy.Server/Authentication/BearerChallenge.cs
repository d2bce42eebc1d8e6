using System.Collections.Concurrent;
using System.Text;

namespace RequestsProxy.Server.Authentication;

/// <summary>
/// The RFC 6750 answers. Header values and bodies are built once per reason: a flood of bad
/// tokens costs no formatting.
/// </summary>
internal static class BearerChallenge
{
    private const string JsonContentType = "application/json";

    // RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
    private static readonly Answer MissingCredentials = new("Bearer", Body("invalid_request", AuthReasons.MissingToken));

    private static readonly ConcurrentDictionary<string, Answer> Unauthorized = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Answer> Forbidden = new(StringComparer.Ordinal);

    public static Task WriteUnauthorizedAsync(HttpContext context, string reason)
    {
        var answer = reason == AuthReasons.MissingToken
            ? MissingCredentials
            : Unauthorized.GetOrAdd(reason, r => new Answer(
                $"Bearer error=\"invalid_token\", error_description=\"{r}\"", Body("invalid_token", r)));
        return WriteAsync(context, StatusCodes.Status401Unauthorized, answer);
    }

    /// <param name="requiredScope">Named in the challenge (RFC 6750 §3) when a scope was missing.</param>
    public static Task WriteForbiddenAsync(HttpContext context, string reason, string? requiredScope)
    {
        var answer = Forbidden.GetOrAdd(reason + "\n" + requiredScope, _ => new Answer(
            requiredScope is null
                ? $"Bearer error=\"insufficient_scope\", error_description=\"{reason}\""
                : $"Bearer error=\"insufficient_scope\", error_description=\"{reason}\", scope=\"{requiredScope}\"",
            Body("insufficient_scope", reason)));
        return WriteAsync(context, StatusCodes.Status403Forbidden, answer);
    }

    public static Task WriteErrorAsync(HttpContext context, int status, string reason, int? retryAfterSeconds = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonContentType;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var error = status switch
        {
            StatusCodes.Status400BadRequest => "invalid_request",
            StatusCodes.Status404NotFound => "not_found",
            StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
            StatusCodes.Status413PayloadTooLarge => "request_too_large",
            _ => "unavailable",
        };
        return context.Response.Body.WriteAsync(Body(error, reason)).AsTask();
    }

    private static Task WriteAsync(HttpContext context, int status, Answer answer)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.WWWAuthenticate = answer.Challenge;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = answer.Body.Length;
        return context.Response.Body.WriteAsync(answer.Body).AsTask();
    }

    // Reasons are fixed lowercase identifiers: no JSON escaping is needed.
    private static byte[] Body(string error, string reason) =>
        Encoding.UTF8.GetBytes($"{{\"error\":\"{error}\",\"error_description\":\"{reason}\"}}");

    private sealed record Answer(string Challenge, byte[] Body);
}
