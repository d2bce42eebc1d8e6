using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Tokens.Admin;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// Who may call the legacy admin endpoints (docs/proxy.md, "Signed admin requests"): a request
/// signed with the admin token as HMAC key (<see cref="AdminSignatureVerifier"/>: method, request
/// target, this replica's address, body, time, nonce), or — the compatibility path for a jobs-manager
/// older than signing, <see cref="ProxySettings.AdminAcceptBearer"/> — the admin token as a bearer
/// token. A request carrying any signature header is judged by its signature alone.
/// </summary>
internal sealed class AdminGate(AdminToken admin, ProxySettings settings, TimeProvider time, ILogger<AdminGate> logger)
{
    private readonly AdminSignatureVerifier _verifier = new(time);

    public AdminSignatureVerifier Verifier => _verifier;

    /// <summary>Reads the body (at most <paramref name="maxBodyBytes"/>) and judges the request; a refusal is an <see cref="IResult"/> to answer with.</summary>
    public async Task<(AdminRequest? Request, IResult? Refusal)> AuthorizeAsync(HttpContext context, int maxBodyBytes)
    {
        if (context.Request.ContentLength > maxBodyBytes)
        {
            return (null, AdminResults.Problem(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {maxBodyBytes} bytes"));
        }

        var body = await ReadBodyAsync(context, maxBodyBytes);
        if (body is null)
        {
            return (null, AdminResults.Problem(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {maxBodyBytes} bytes"));
        }

        var headers = context.Request.Headers;
        var signed = new AdminSignedRequest(
            context.Request.Method,
            context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.PathBase + context.Request.Path + context.Request.QueryString,
            body,
            Single(headers, AdminSignature.TimestampHeader),
            Single(headers, AdminSignature.NonceHeader),
            Single(headers, AdminSignature.TargetHeader),
            Single(headers, AdminSignature.SignatureHeader));

        if (admin.Read() is not { } key)
        {
            Log.AdminRefused(logger, "admin token file missing or empty");
            return (null, AdminResults.Problem(StatusCodes.Status503ServiceUnavailable, "the admin token is not configured"));
        }

        if (signed.ClaimsSignature)
        {
            var failure = _verifier.Verify(key, signed, OwnTargets(context));
            if (failure == AdminSignatureFailure.None)
            {
                return (new AdminRequest(AdminCaller.Signed, body), null);
            }

            var reason = AdminSignatureReasons.Of(failure);
            Log.AdminRefused(logger, $"{reason} (target '{signed.Target}', from {context.Connection.RemoteIpAddress})");
            return (null, AdminResults.SignatureRefused(failure, signed.Target));
        }

        if (!BearerToken.TryRead(context.Request, out var presented) || presented.Length == 0)
        {
            Log.AdminRefused(logger, AuthReasons.MissingToken);
            return (null, AdminResults.SignatureRefused(AdminSignatureFailure.Missing, null));
        }

        if (!settings.AdminAcceptBearer)
        {
            Log.AdminRefused(logger, "a bearer admin token, refused (REQUESTS_PROXY_ADMIN_ACCEPT_BEARER=false)");
            return (null, AdminResults.BearerRefused("bearer admin tokens are not accepted here (REQUESTS_PROXY_ADMIN_ACCEPT_BEARER=false): sign the request (docs/proxy.md, \"Signed admin requests\")"));
        }

        if (admin.Check(presented.ToString()) != AdminCheck.Allowed)
        {
            Log.AdminRefused(logger, "wrong admin token");
            return (null, new ChallengeResult());
        }

        Log.AdminBearerAccepted(logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "?");
        return (new AdminRequest(AdminCaller.Bearer, body), null);
    }

    /// <summary>
    /// The address the request arrived at (the pod IP the jobs-manager resolved); and the Host header
    /// when it names this replica by a DNS name (no pods DNS: one replica addressed by its Service or
    /// localhost) — never an IP literal from the header, so a request signed for another pod's address
    /// cannot be re-pointed here by rewriting Host.
    /// </summary>
    private static List<string> OwnTargets(HttpContext context)
    {
        var targets = new List<string>(2);
        if (context.Connection.LocalIpAddress is { } local)
        {
            targets.Add(AdminSignature.TargetOf(local, context.Connection.LocalPort));
        }

        var host = context.Request.Host;
        if (host.HasValue && !IPAddress.TryParse(host.Host.Trim('[', ']'), out _))
        {
            var port = host.Port ?? (context.Request.IsHttps ? 443 : 80);
            targets.Add($"{host.Host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        return targets;
    }

    private static string? Single(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) ? (values.Count == 1 ? values[0] ?? "" : "") : null;

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
