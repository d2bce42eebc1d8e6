using System.Net;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using RequestsProxy.Server.Authentication;
using RequestsProxy.Server.Hosting;
using RequestsProxy.Server.Metrics;
using RequestsProxy.Tokens.Admin;

namespace RequestsProxy.Server.Legacy;

/// <summary>
/// Who may call the legacy admin endpoints (docs/proxy.md, "Signed admin requests"): a request
/// signed with the admin token as HMAC key (<see cref="AdminSignatureVerifier"/>: method, request
/// target, this replica's address, body digest, time, nonce; the MAC checked before the body is
/// read), or — the compatibility path for a jobs-manager
/// older than signing, <see cref="ProxySettings.AdminAcceptBearer"/> — the admin token as a bearer
/// token. A request carrying any signature header is judged by its signature alone.
/// </summary>
internal sealed class AdminGate(AdminToken admin, ProxySettings settings, TimeProvider time, RefusalLogBudget logBudget, ILogger<AdminGate> logger) : IDisposable
{
    /// <summary>Bodies read at once, and waiting beyond them; a jobs-manager sends one sync every 2 s and one request per start or stop.</summary>
    public const int ConcurrentBodies = 4;
    public const int QueuedBodies = 16;

    /// <summary>A body must arrive within this (a sync of 4 MiB takes milliseconds in a cluster): a trickling sender holds no slot longer.</summary>
    public static readonly TimeSpan BodyDeadline = TimeSpan.FromSeconds(10);

    private readonly AdminSignatureVerifier _verifier = new(time);
    private readonly ConcurrencyLimiter _bodies = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = ConcurrentBodies,
        QueueLimit = QueuedBodies,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public AdminSignatureVerifier Verifier => _verifier;

    /// <summary>
    /// Judges the request and reads its body (at most <paramref name="maxBodyBytes"/>); a refusal is an
    /// <see cref="IResult"/> to answer with. Only a request that proved the key — its MAC over the body
    /// digest it declares, or the bearer token of the compatibility path — gets a body read, at most
    /// <see cref="ConcurrentBodies"/> at once, each within <see cref="BodyDeadline"/> (finding A13: 60
    /// unauthenticated connections sending 4 MiB bodies ran a replica out of memory; B1: checks anyone
    /// could pass let 20 connections hold every slot).
    /// </summary>
    public async Task<(AdminRequest? Request, IResult? Refusal)> AuthorizeAsync(HttpContext context, int maxBodyBytes)
    {
        if (context.Request.ContentLength > maxBodyBytes)
        {
            return (null, TooLarge(maxBodyBytes));
        }

        if (admin.Read() is not { } key)
        {
            Refused("admin token file missing or empty");
            return (null, AdminResults.Problem(StatusCodes.Status503ServiceUnavailable, "the admin token is not configured"));
        }

        var signed = SignedRequest(context, ReadOnlyMemory<byte>.Empty);
        var targets = OwnTargets(context, settings.AdminTargetNames);
        var refusal = signed.ClaimsSignature ? RefuseSignature(context, signed, _verifier.VerifyHeaders(key, signed, targets)) : CheckBearer(context);
        if (refusal is not null)
        {
            return (null, refusal);
        }

        using var lease = await _bodies.AcquireAsync(1, context.RequestAborted);
        if (!lease.IsAcquired)
        {
            Refused($"busy: more than {ConcurrentBodies + QueuedBodies} admin requests at once (from {context.Connection.RemoteIpAddress})");
            return (null, AdminResults.Problem(StatusCodes.Status429TooManyRequests, $"more than {ConcurrentBodies + QueuedBodies} admin requests at once; retry"));
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(BodyDeadline);
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(context, maxBodyBytes, deadline.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return (null, AdminResults.Problem(StatusCodes.Status408RequestTimeout, $"the body did not arrive within {BodyDeadline.TotalSeconds:F0} s"));
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits (minimum data rate, a body shorter than its Content-Length): an answer, not an unhandled exception.
            return (null, AdminResults.Problem(e.StatusCode, $"the body could not be read: {e.Message}"));
        }

        if (body is null)
        {
            return (null, TooLarge(maxBodyBytes));
        }

        if (!signed.ClaimsSignature)
        {
            Log.AdminBearerAccepted(logger, context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress?.ToString() ?? "?");
            return (new AdminRequest(AdminCaller.Bearer, body), null);
        }

        var failure = _verifier.Verify(key, SignedRequest(context, body), targets);
        return failure == AdminSignatureFailure.None
            ? (new AdminRequest(AdminCaller.Signed, body), null)
            : (null, RefuseSignature(context, signed, failure));
    }

    public void Dispose() => _bodies.Dispose();

    /// <summary>
    /// Event 42 within the refusal log budget: the admin endpoints answer on the pod-facing port, so
    /// any pod can have its requests refused at will (A12).
    /// </summary>
    private void Refused(string reason)
    {
        if (logBudget.MayLog(logger))
        {
            Log.AdminRefused(logger, reason);
        }
    }

    private IResult? RefuseSignature(HttpContext context, AdminSignedRequest signed, AdminSignatureFailure failure)
    {
        if (failure == AdminSignatureFailure.None)
        {
            return null;
        }

        var reason = AdminSignatureReasons.Of(failure);
        // The caller's Target is quoted only when it is of its form (printable, at most 300 characters): one of 15 000 made 30 KB lines (B3).
        var target = signed.Target is { } t ? (AdminSignatureVerifier.IsTargetForm(t) ? $"'{t}'" : $"not of its form ({t.Length} characters)") : "none";
        Refused($"{reason} (target {target}, from {context.Connection.RemoteIpAddress})");
        return AdminResults.SignatureRefused(failure, signed.Target);
    }

    /// <summary>The compatibility path (an older jobs-manager): the admin token as a bearer token, checked before any body is read.</summary>
    private IResult? CheckBearer(HttpContext context)
    {
        if (!BearerToken.TryRead(context.Request, out var presented) || presented.Length == 0)
        {
            Refused(AuthReasons.MissingToken);
            return AdminResults.SignatureRefused(AdminSignatureFailure.Missing, null);
        }

        if (!settings.AdminAcceptBearer)
        {
            Refused("a bearer admin token, refused (REQUESTS_PROXY_ADMIN_ACCEPT_BEARER=false)");
            return AdminResults.BearerRefused("bearer admin tokens are not accepted here (REQUESTS_PROXY_ADMIN_ACCEPT_BEARER=false): sign the request (docs/proxy.md, \"Signed admin requests\")");
        }

        if (admin.Check(presented.ToString()) != AdminCheck.Allowed)
        {
            Refused("wrong admin token");
            return new ChallengeResult();
        }

        return null;
    }

    private static AdminSignedRequest SignedRequest(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var headers = context.Request.Headers;
        return new AdminSignedRequest(
            context.Request.Method,
            context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : context.Request.PathBase + context.Request.Path + context.Request.QueryString,
            body,
            Single(headers, AdminSignature.TimestampHeader),
            Single(headers, AdminSignature.NonceHeader),
            Single(headers, AdminSignature.TargetHeader),
            Single(headers, AdminSignature.SignatureHeader),
            Single(headers, AdminSignature.ContentSha256Header));
    }

    private static IResult TooLarge(int maxBodyBytes) =>
        AdminResults.Problem(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {maxBodyBytes} bytes");

    /// <summary>
    /// The address the request arrived at (the pod IP the jobs-manager resolved); <c>localhost</c> when
    /// that address is loopback (a caller on this host or in this pod); and the DNS names this replica
    /// was told it answers to (<see cref="ProxySettings.AdminTargetNames"/>). Never anything the Host
    /// header says by itself: the sender writes Host, so a target taken from it would bind nothing
    /// (finding B5: a request signed for any DNS name was accepted at every replica).
    /// </summary>
    private static List<string> OwnTargets(HttpContext context, IReadOnlyList<string> names)
    {
        var targets = new List<string>(2 + names.Count);
        var port = context.Connection.LocalPort;
        if (context.Connection.LocalIpAddress is { } local)
        {
            targets.Add(AdminSignature.TargetOf(local, port));
            if (IPAddress.IsLoopback(local))
            {
                targets.Add($"localhost:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            }
        }

        targets.AddRange(names);
        return targets;
    }

    private static string? Single(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) ? (values.Count == 1 ? values[0] ?? "" : "") : null;

    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, int maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken)) > 0)
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
