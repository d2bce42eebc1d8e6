using RequestsProxy.Settings;
using RequestsProxy.Tokens.Admin;

namespace RequestsProxy.Server.Legacy;

/// <summary>The admin endpoints' answers: JSON bodies that say what was refused and why.</summary>
internal static class AdminResults
{
    /// <summary>The scheme named in <c>WWW-Authenticate</c> when a signature is refused.</summary>
    public const string SignatureChallenge = AdminSignature.Scheme;

    public static IResult Problem(int status, string detail) =>
        Results.Json(new Dictionary<string, string> { ["error"] = detail }, statusCode: status);

    public static IResult Disabled() =>
        Problem(StatusCodes.Status404NotFound, $"legacy registration is disabled ({EnvironmentVariables.Stateless}=true)");

    /// <summary>
    /// 401 for what proves nothing (missing, malformed, stale, a MAC that does not match), 403 for a
    /// request that is not for this replica or not for a second time, 503 when the nonce memory is full.
    /// </summary>
    public static IResult SignatureRefused(AdminSignatureFailure failure, string? target)
    {
        var reason = AdminSignatureReasons.Of(failure);
        var (status, detail) = failure switch
        {
            AdminSignatureFailure.Missing => (StatusCodes.Status401Unauthorized,
                $"sign the request: headers {AdminSignature.TimestampHeader}, {AdminSignature.NonceHeader}, {AdminSignature.TargetHeader}, {AdminSignature.SignatureHeader} and {AdminSignature.ContentSha256Header} (docs/proxy.md, \"Signed admin requests\")"),
            AdminSignatureFailure.Malformed => (StatusCodes.Status401Unauthorized,
                "a signature header is not of its form (timestamp: Unix seconds; nonce: 22-64 base64url characters; target: host:port; signature and content digest: 43 base64url characters)"),
            AdminSignatureFailure.StaleTimestamp => (StatusCodes.Status401Unauthorized,
                $"the timestamp is more than {AdminSignature.Window.TotalSeconds:0} s from this replica's clock"),
            AdminSignatureFailure.BadSignature => (StatusCodes.Status401Unauthorized,
                "the signature does not match this request (another admin token, or the method, path, target, body, timestamp or nonce changed)"),
            AdminSignatureFailure.BodyMismatch => (StatusCodes.Status401Unauthorized,
                $"the body is not the one signed: its SHA-256 is not {AdminSignature.ContentSha256Header}"),
            AdminSignatureFailure.WrongTarget => (StatusCodes.Status403Forbidden,
                $"signed for '{target}', which is not this replica's address"),
            AdminSignatureFailure.Replayed => (StatusCodes.Status403Forbidden,
                "this nonce was already used: a request is accepted once"),
            _ => (StatusCodes.Status503ServiceUnavailable,
                "too many admin requests within the replay window; retry after it"),
        };
        return new AdminRefusal(status, reason, detail);
    }

    public static IResult BearerRefused(string detail) => new AdminRefusal(StatusCodes.Status401Unauthorized, "bearer_not_accepted", detail);

    /// <summary><c>{"error":"invalid_admin_request","error_description":reason,"detail":…}</c> with a challenge on 401 and Retry-After on 503.</summary>
    private sealed class AdminRefusal(int status, string reason, string detail) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (status == StatusCodes.Status401Unauthorized)
            {
                httpContext.Response.Headers.WWWAuthenticate = $"{SignatureChallenge} error=\"invalid_admin_request\", error_description=\"{reason}\"";
            }
            else if (status == StatusCodes.Status503ServiceUnavailable)
            {
                httpContext.Response.Headers.RetryAfter = ((int)AdminSignature.Window.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.Json(new Dictionary<string, string>
            {
                ["error"] = "invalid_admin_request",
                ["error_description"] = reason,
                ["detail"] = detail,
            }, statusCode: status).ExecuteAsync(httpContext);
        }
    }
}
